-- machine_sketch_keys: per machine left in the day's reports (suppressed ones already deleted), the
-- integer that stands for it in every HLL sketch (machine_key in machine_days, problem_totals and
-- feature_totals): the first 60 bits of SHA-256(salt || canonical GUID). The salt, 64 hex characters
-- derived from the machine-key secret (ceip.machines.sketch_key), is this statement's one bound
-- parameter (?), never written into the text. Messages are all 36 characters, so SHA-256 with a
-- secret prefix is a keyed hash like HMAC (no length extension applies; docs/adr/0013). Without the
-- secret nobody can compute a GUID's key, so a sketch cannot be tested for a known machine; the same
-- salt every day, so a machine counts once in a rolling window. Never published.
-- Athena: from_base(substr(to_hex(sha256(to_utf8(salt || machine_id))), 1, 15), 16).
SELECT
    machine_id,
    CAST('0x' || substr(sha256(? || CAST(machine_id AS VARCHAR)), 1, 15) AS BIGINT) AS machine_key
FROM (SELECT DISTINCT machine_id FROM reports)
