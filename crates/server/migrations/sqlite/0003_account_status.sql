-- Whether an integrated account's credentials still work: `active`, or `needs_reauth` after the
-- provider answered 401 (unified calls then answer 401 without calling the provider until the
-- account's credentials are updated).
ALTER TABLE accounts ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
