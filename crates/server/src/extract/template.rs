//! A template in the body of `POST /v1/templates`: the YAML file as written, or the same shape
//! as JSON.

use super::body;
use super::json::parse_json;
use crate::problem::Problem;
use axum::extract::{FromRequest, Request};
use tasker_engine::Error;
use tasker_model::Template;
use tasker_model::template::TemplateSpec;

/// The media types read as YAML.
pub const YAML_TYPES: [&str; 3] = ["application/yaml", "application/x-yaml", "text/yaml"];

/// A parsed and validated template (its handlers are checked when it is registered).
#[derive(Debug, Clone)]
pub struct TemplateBody(pub Template);

impl<S: Send + Sync> FromRequest<S> for TemplateBody {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let media_type = body::media_type(request.headers());
        let yaml = match media_type.as_deref() {
            Some(t) if YAML_TYPES.contains(&t) => true,
            Some(t) if body::is_json(t) => false,
            other => {
                return Err(body::unsupported(
                    other,
                    "application/yaml (also application/x-yaml, text/yaml) or application/json",
                ));
            }
        };
        let bytes = body::read(request, state).await?;
        let template = if yaml {
            let text = std::str::from_utf8(&bytes).map_err(|e| {
                Problem::validation(format!("the YAML body is not UTF-8 text: {e}"))
            })?;
            Template::from_yaml(text)
        } else {
            Template::from_spec(parse_json::<TemplateSpec>(&bytes)?)
        };
        template
            .map(TemplateBody)
            .map_err(|errors| Problem::from(Error::Template(errors)))
    }
}
