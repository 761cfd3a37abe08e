//! The conformance suite: every backend runs these cases through the `Store` trait.
