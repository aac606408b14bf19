import CLibPQ

/// The column names of one result, shared by all its rows, so a reader names the columns it needs instead of
/// counting positions in the select list.
///
/// Resolve names once per result (``index(of:)``, or ``PostgresRow/index(of:)`` on its first row) and read each
/// row by the resolved ``PostgresRow/subscript(_:)-(Int)`` index: a name lookup per value would cost a hash per
/// column per row.
public struct PostgresColumns: Sendable, Equatable {
    /// The names in select-list order, as the server sent them.
    public let names: [String]
    private let positions: [String: Int]

    /// Makes the columns of a result whose names are known (an empty list for rows with no names, as COPY gives).
    public init(names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        // A name given twice resolves to its first column, as PQfnumber does.
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }

    init(result: OpaquePointer) {
        self.init(names: (0..<PQnfields(result)).map { String(cString: PQfname(result, $0)) })
    }

    /// The position of the column called `name` (exactly as in the result: no case folding).
    /// - Throws: `PostgresError` with code ``PostgresError/Code/missingColumn`` naming the column, when the result
    ///   has none by that name: the query and its reader disagree, which no row should hide.
    public func index(of name: String) throws -> Int {
        guard let index = positions[name] else {
            throw PostgresError(
                code: .missingColumn,
                message: "the result has no column \"\(name)\" (it has \(names.joined(separator: ", ")))")
        }
        return index
    }

    public static func == (left: PostgresColumns, right: PostgresColumns) -> Bool { left.names == right.names }
}
