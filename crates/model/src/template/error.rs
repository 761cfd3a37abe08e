use serde::Serialize;
use std::fmt;

/// One problem in a template, at a field path such as `steps[2].retry.max_attempts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateError {
    /// The field at fault, as a path into the template (`steps[2].depends_on[0]`); empty when
    /// the problem concerns the template as a whole (YAML that does not parse, a template too
    /// large).
    pub path: String,
    /// What is wrong, e.g. `step "pay" depends on unknown step "chek"`.
    pub message: String,
}

impl TemplateError {
    /// An error at `path` saying `message`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a template; never empty. Displayed, each problem is a line
/// `path: message` under a heading that counts them.
///
/// ```
/// use tasker_model::TemplateErrors;
///
/// let errors = TemplateErrors::single("steps[0].handler", "must not be empty");
/// assert_eq!(errors.to_string(), "invalid template (1 problem):\n  steps[0].handler: must not be empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct TemplateErrors(pub Vec<TemplateError>);

impl TemplateErrors {
    /// A list of one error, at `path` saying `message`.
    pub fn single(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![TemplateError::new(path, message)])
    }

    pub(crate) fn from_vec(errors: Vec<TemplateError>) -> Result<(), TemplateErrors> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(TemplateErrors(errors))
        }
    }
}

impl fmt::Display for TemplateErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "invalid template ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}
