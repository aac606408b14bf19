/// Text-array parameters: a whole column of a multi-row statement passed as one `$n::text[]` parameter, so a
/// batch of rows is one statement (`INSERT … SELECT … FROM unnest($1::text[], $2::text[], …)`), one round trip,
/// instead of a COPY into a temporary table and a statement reading it inside a transaction.
public enum PostgresArray {
    /// The array literal of `elements` (every element quoted; `nil` is SQL `NULL`), for a `text[]` parameter.
    public static func literal<Elements: Sequence>(_ elements: Elements) -> String where Elements.Element == String? {
        var literal = "{"
        var first = true
        for element in elements {
            if !first { literal.append(",") }
            first = false
            guard let element else {
                literal.append("NULL")
                continue
            }
            literal.append("\"")
            for character in element.unicodeScalars {
                if character == "\"" || character == "\\" { literal.unicodeScalars.append("\\") }
                literal.unicodeScalars.append(character)
            }
            literal.append("\"")
        }
        literal.append("}")
        return literal
    }
}
