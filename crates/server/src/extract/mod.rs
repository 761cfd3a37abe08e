//! Extractors that refuse bad input with a [`Problem`](crate::problem::Problem) naming the field,
//! instead of axum's plain-text rejections.

mod body;
mod cursor;
mod headers;
mod json;
mod path;
mod query;
mod template;
mod text;

pub use cursor::Cursor;
pub use headers::{IDEMPOTENCY_KEY, IdempotencyKey, TRACEPARENT, Traceparent, check_traceparent};
pub use json::{Json, parse_json};
pub use path::Path;
pub use query::{Query, parse_query};
pub use template::TemplateBody;
pub use text::no_nul;
