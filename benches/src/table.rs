//! Markdown pipe tables with aligned columns, readable in a terminal and pasteable into a
//! README.

/// A table under construction: a header and rows of cells.
pub struct Table {
    header: Vec<String>,
    /// Whether each column is right-aligned (numbers) or left-aligned (names).
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Starts a table; a column whose name starts with `>` is right-aligned, and the `>` is
    /// not printed.
    pub fn new(columns: &[&str]) -> Table {
        Table {
            header: columns
                .iter()
                .map(|name| name.trim_start_matches('>').to_owned())
                .collect(),
            right: columns.iter().map(|name| name.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    ///
    /// # Panics
    ///
    /// Panics if the row has a different number of cells than the header.
    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(
            cells.len(),
            self.header.len(),
            "a row needs one cell per column"
        );
        self.rows.push(cells);
    }

    /// Renders the table, one line per row, ending with a newline.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|column| {
                self.rows
                    .iter()
                    .map(|row| row[column].chars().count())
                    .chain([self.header[column].chars().count(), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();

        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&self.right)
                .map(|((cell, &width), &right)| {
                    if right {
                        format!("{cell:>width$}")
                    } else {
                        format!("{cell:<width$}")
                    }
                })
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };

        let rule: Vec<String> = widths
            .iter()
            .zip(&self.right)
            .map(|(&width, &right)| {
                if right {
                    format!("{}:", "-".repeat(width + 1))
                } else {
                    "-".repeat(width + 2)
                }
            })
            .collect();

        let mut out = line(&self.header);
        out.push_str(&format!("|{}|\n", rule.join("|")));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// Formats a figure in nanoseconds with a precision that suits its size.
pub fn ns(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// Formats `value / base` as a ratio such as `3.2x`, or `-` when `base` is not positive.
pub fn ratio(value: f64, base: f64) -> String {
    if base <= 0.0 || !value.is_finite() {
        return "-".to_owned();
    }
    let ratio = value / base;
    if ratio < 10.0 {
        format!("{ratio:.2}x")
    } else {
        format!("{ratio:.0}x")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let mut table = Table::new(&["logger", ">p50"]);
        table.row(vec!["ulog".into(), "7.5".into()]);
        table.row(vec!["tracing".into(), "1200".into()]);
        let text = table.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "| logger  |  p50 |");
        assert_eq!(lines[1], "|---------|-----:|");
        assert_eq!(lines[2], "| ulog    |  7.5 |");
        assert_eq!(lines[3], "| tracing | 1200 |");
    }

    #[test]
    fn ratio_handles_zero_base() {
        assert_eq!(ratio(5.0, 0.0), "-");
        assert_eq!(ratio(5.0, 2.0), "2.50x");
        assert_eq!(ratio(500.0, 2.0), "250x");
    }
}
