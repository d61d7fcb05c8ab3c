/// RFC 4180 CSV for exports: CRLF after every record, a field quoted (its quotes doubled) when it holds a comma,
/// a quote, CR or LF, and nothing else quoted.
///
/// **Formula injection.** A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab
/// or CR) as a formula, so text that came from outside (an exchange's error message, a model's `signal_id`)
/// could run in the reader's spreadsheet. A `text` cell starting with one of those gets a leading `'`, which
/// spreadsheets show as text and do not evaluate. `value` cells (numbers, timestamps, ids we generated) are
/// written as they are, so a negative decimal stays a number.
public enum CSV {
    /// One field of a record.
    public enum Cell: Sendable, Equatable {
        /// Text from anywhere: guarded against formula injection, then quoted as needed.
        case text(String)
        /// A value we produced ourselves (a number, a timestamp, a UUID): only quoted as needed.
        case value(String)
        /// No value (SQL NULL): an empty field.
        case empty
    }

    /// The characters that make a spreadsheet read a cell as a formula (OWASP's list).
    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// One record: the fields joined with commas, CRLF at the end.
    public static func record(_ cells: [Cell]) -> String {
        var line = ""
        for (i, cell) in cells.enumerated() {
            if i > 0 { line += "," }
            switch cell {
            case .text(let s): line += field(defused(s))
            case .value(let s): line += field(s)
            case .empty: break
            }
        }
        return line + "\r\n"
    }

    /// A header record from column names.
    public static func header(_ names: [String]) -> String { record(names.map { .value($0) }) }

    /// `text` with a `'` in front when it starts like a formula.
    public static func defused(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, formulaStarts.contains(first) else { return text }
        return "'" + text
    }

    /// The field as written: quoted, with its quotes doubled, when it holds a comma, a quote, CR or LF.
    /// (Checked on bytes: in Swift "\r\n" is one `Character`, equal to neither "\r" nor "\n".)
    public static func field(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 13 || $0 == 10 }) else { return text }
        let quote: Unicode.Scalar = "\""
        var out = String.UnicodeScalarView()
        out.append(quote)
        for scalar in text.unicodeScalars {
            if scalar == quote { out.append(quote) }
            out.append(scalar)
        }
        out.append(quote)
        return String(out)
    }
}
