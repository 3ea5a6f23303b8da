//! Online payments through a provider: what comes back from it is checked before anything is
//! written (`stripe`: signed webhooks).

pub mod stripe;
