//! Text that reaches the database as a value: PostgreSQL cannot take a NUL character in text,
//! so one is refused here as bad input (SQLite would keep it; both refuse it the same way).

use crate::problem::Problem;

/// 400 naming the parameter when `value` holds a NUL character.
pub fn no_nul(parameter: &str, value: &str) -> Result<(), Problem> {
    if value.contains('\0') {
        return Err(Problem::parameter(
            parameter,
            format!("{parameter} contains a NUL character (\\u0000)"),
        ));
    }
    Ok(())
}
