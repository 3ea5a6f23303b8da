-- Which chargeback of a provider's payment is its first, the one that reverses the payment
-- (each later one adds what the bank took back on top). Set once, by whichever server process
-- gets there first, and only while the log holds no reversal of the payment: two processes
-- each handling another chargeback of the same payment at the same moment would otherwise
-- both reverse it, and the log, keeping one reversal, would keep both credits.
ALTER TABLE provider_payments ADD COLUMN first_chargeback TEXT;
