//! Templates the API tests register.

/// Two quick steps in namespace `shop`, with an input schema.
pub const CHECKOUT: &str = r#"
namespace: shop
name: checkout
version: 1.0.0
description: Charge, then ship.
input_schema:
  type: object
  required: [order_id]
  properties:
    order_id: { type: integer, minimum: 1 }
    email: { type: string }
steps:
  - name: charge
    handler: noop
  - name: ship
    handler: noop
    depends_on: [charge]
"#;

/// One step that fails for good at once (namespace `shop`).
pub const BROKEN: &str = r#"
namespace: shop
name: broken
version: 1.0.0
steps:
  - name: explode
    handler: fail
    config: { permanent: true }
  - name: after
    handler: noop
    depends_on: [explode]
"#;

/// Same context, same task: a strict identity (namespace `shop`).
pub const STRICT: &str = r#"
namespace: shop
name: refund
version: 1.0.0
identity: strict
input_schema:
  type: object
  required: [order_id]
  properties:
    order_id: { type: integer }
steps:
  - name: pay_back
    handler: noop
"#;

/// A template of another namespace.
pub const OTHER: &str = r#"
namespace: other
name: job
version: 1.0.0
steps:
  - name: only
    handler: noop
"#;

/// A step that sleeps `ms` (namespace `shop`).
pub fn sleeper(ms: u64) -> String {
    format!(
        "namespace: shop\nname: sleeper\nversion: 1.0.0\nsteps:\n  - name: nap\n    handler: sleep\n    config: {{ ms: {ms} }}\n"
    )
}

/// One step that workers of queue `shop` run (namespace `shop`).
pub const SHOP_QUEUE: &str = r#"
namespace: shop
name: queued
version: 1.0.0
steps:
  - name: only
    handler: pack
    queue: shop
"#;
