"""PrivacyFunction: e-mailed (and hand-recorded postal) privacy inquiries become triaged tickets."""
