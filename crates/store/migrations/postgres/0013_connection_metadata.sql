-- Connection metadata (issue 11; twin in ../sqlite, identical in meaning): what the provider said
-- about the grant — token-reply fields, callback parameters, a follow-up call's answer
-- (Salesforce instance_url, QuickBooks realmId, Slack team). Non-secret text, a JSON object of
-- strings, replaced by each consent.
ALTER TABLE connections ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
