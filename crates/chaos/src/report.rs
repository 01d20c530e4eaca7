//! Plain-text tables for the end of a run.

/// A table: a header row and data rows, printed with aligned columns.
#[derive(Debug, Default)]
pub struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table.
    pub fn new(title: &str, header: &[&str]) -> Self {
        Self {
            title: title.to_owned(),
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                let longest = cell.lines().map(|l| l.chars().count()).max().unwrap_or(0);
                widths[i] = widths[i].max(longest);
            }
        }
        let rule: String = widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("+");
        let line = |cells: &[String]| -> String {
            // A cell may hold several lines; print them side by side.
            let height = cells.iter().map(|c| c.lines().count().max(1)).max().unwrap_or(1);
            let mut out = String::new();
            for l in 0..height {
                let parts: Vec<String> = (0..columns)
                    .map(|i| {
                        let text = cells.get(i).and_then(|c| c.lines().nth(l)).unwrap_or("");
                        format!(" {text:<width$} ", width = widths[i])
                    })
                    .collect();
                out.push('|');
                out.push_str(&parts.join("|"));
                out.push_str("|\n");
            }
            out
        };
        let mut out = format!("{}\n+{rule}+\n", self.title);
        out.push_str(&line(&self.header));
        out.push_str(&format!("+{rule}+\n"));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out.push_str(&format!("+{rule}+\n"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned_and_multi_line_cells_stack() {
        let mut table = Table::new("T", &["check", "result"]);
        table.row(vec!["money conserved".to_owned(), "PASS".to_owned()]);
        table.row(vec!["x".to_owned(), "FAIL\nsecond line".to_owned()]);
        let text = table.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "T");
        let width = lines[1].len();
        assert!(lines[1..].iter().all(|l| l.len() == width), "{text}");
        assert!(
            text.contains("| x               | FAIL        |\n|                 | second line |"),
            "{text}"
        );
    }
}
