//! Aligned columns: every column as wide as its widest cell, the last one left ragged.

pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        Self::with_headers(headers.iter().map(|h| h.to_string()).collect())
    }

    /// Headers computed at run time (e.g. one column per measured size).
    pub fn with_headers(headers: Vec<String>) -> Self {
        Self {
            headers,
            rows: Vec::new(),
        }
    }

    /// Cells are passed through [`super::clean`]: a control character in a cell is escaped.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|cell| match super::clean(&cell) {
                    std::borrow::Cow::Borrowed(_) => cell,
                    std::borrow::Cow::Owned(escaped) => escaped,
                })
                .collect(),
        );
    }

    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let header = &self.headers;
        let mut out = String::new();
        for row in std::iter::once(header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate().take(columns) {
                if i + 1 == columns {
                    line.push_str(cell);
                } else {
                    let pad = widths[i] - cell.chars().count();
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_the_last_is_not_padded() {
        let mut t = Table::new(&["ID", "STATE", "NOTE"]);
        t.row(vec!["1".into(), "complete".into(), "x".into()]);
        t.row(vec!["12345".into(), "error".into(), "".into()]);
        assert_eq!(
            t.render(),
            "ID     STATE     NOTE\n1      complete  x\n12345  error\n"
        );
    }
}
