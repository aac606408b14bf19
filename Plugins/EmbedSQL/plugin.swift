import Foundation
import PackagePlugin

/// Compiles `sql/` into `SQL.swift` (typed accessors over string literals) for the target that uses it, with
/// every SQL file declared as an input, so editing one rebuilds the target and nothing generated is committed.
@main
struct EmbedSQL: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let sql = context.package.directoryURL.appendingPathComponent("sql")
        var inputs: [URL] = []
        for folder in ["queries", "migrations", "definitions"] {
            let url = sql.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            inputs += names.filter { $0.hasSuffix(".sql") }.sorted().map { url.appendingPathComponent($0) }
        }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("SQL.swift")
        let tool = try context.tool(named: "embed-sql")
        return [
            .buildCommand(
                displayName: "Embedding sql/ into \(target.name)",
                executable: tool.url,
                arguments: [sql.path, output.path],
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
