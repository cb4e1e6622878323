"""Where things live in S3: key layout (pure functions), object codecs and the S3 adapter."""
