-- What reverses a provider's payment in the ledger: its first chargeback (`dispute:` and the
-- provider's id) or its refund in full (`refund:` and the id). Named once, by whichever
-- server process gets there first, and only while the log holds no reversal of the payment:
-- two processes each handling another chargeback, or a chargeback and the full refund, of the
-- same payment at the same moment would otherwise both reverse it, and the log, keeping one
-- reversal, would drop what the other came with. Every other one then comes on top.
ALTER TABLE provider_payments ADD COLUMN reversed_by TEXT;
