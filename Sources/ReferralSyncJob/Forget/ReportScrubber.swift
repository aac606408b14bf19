import Foundation

/// The kept report folders of `--reports-dir`, rid of forgotten people (README "Personal data"): a CSV or JSON
/// Lines file that names them is rewritten without those rows (said in the folder's `summary.md`); a folder where
/// any other file names them, or where a file still does after its rows went, is deleted whole.
struct ReportScrubber {
    let directory: String
    let needles: ForgetNeedles
    let runKey: String

    struct Result {
        var rewrittenFiles = 0
        /// The folders deleted, by name.
        var deleted: [String] = []
        /// The folders that could be neither rewritten nor deleted.
        var failed: [String] = []
    }

    func scrub() -> Result {
        var result = Result()
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory) else { return result }
        for name in names.sorted() where name != "latest" {
            let folder = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            switch scrubFolder(folder) {
            case .untouched: continue
            case .rewritten(let files):
                result.rewrittenFiles += files
            case .unsafe:
                if (try? manager.removeItem(atPath: folder)) != nil {
                    result.deleted.append(name)
                } else {
                    result.failed.append(name)
                }
            }
        }
        return result
    }

    enum FolderOutcome { case untouched, rewritten(Int), unsafe }

    private func scrubFolder(_ folder: String) -> FolderOutcome {
        let manager = FileManager.default
        guard let files = try? manager.subpathsOfDirectory(atPath: folder) else { return .unsafe }
        var rewrites: [(file: String, text: String, removed: Int)] = []
        for file in files.sorted() {
            let path = folder + "/" + file
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            guard let data = manager.contents(atPath: path) else { return .unsafe }
            guard let text = String(data: data, encoding: .utf8) else {
                // Not text: unsafe only if its bytes name someone.
                if names(String(decoding: data, as: UTF8.self)) { return .unsafe }
                continue
            }
            guard names(text) else { continue }
            let records: [String]
            if file.hasSuffix(".csv") {
                records = Self.csvRecords(text)
            } else if file.hasSuffix(".jsonl") {
                records = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) + "\n" }
            } else {
                return .unsafe
            }
            // A CSV keeps its header.
            let keepFirst = file.hasSuffix(".csv") ? 1 : 0
            var kept: [String] = []
            var removed = 0
            for (index, record) in records.enumerated() {
                if index >= keepFirst && (names(record) || namesByField(record)) {
                    removed += 1
                } else {
                    kept.append(record)
                }
            }
            var rewritten = kept.joined()
            if file.hasSuffix(".jsonl"), !text.hasSuffix("\n") { rewritten = String(rewritten.dropLast()) }
            guard !names(rewritten) else { return .unsafe }
            rewrites.append((file, rewritten, removed))
        }
        guard !rewrites.isEmpty else { return .untouched }
        do {
            for rewrite in rewrites { try Self.replace(folder + "/" + rewrite.file, with: rewrite.text) }
            let summary = folder + "/summary.md"
            var note = (try? String(contentsOfFile: summary, encoding: .utf8)) ?? ""
            note +=
                "\n## Rewritten by referral-sync forget \(runKey)\n\n"
                + "People were forgotten (README \"Personal data\"): their rows were removed from these files.\n\n"
                + rewrites.map { "- `\($0.file)`: \($0.removed) row\($0.removed == 1 ? "" : "s") removed\n" }.joined()
            try Self.replace(summary, with: note)
            return .rewritten(rewrites.count)
        } catch {
            return .unsafe
        }
    }

    private func names(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return needles.texts.contains { lowered.contains($0) }
    }

    /// Whether a field of a CSV record is a forgotten customer's id or name (the formula guard's `'` ignored).
    private func namesByField(_ record: String) -> Bool {
        Self.csvFields(record).contains { field in
            let value = field.hasPrefix("'") ? String(field.dropFirst()) : field
            return needles.fields.contains(value.lowercased())
        }
    }

    /// The records of a CSV text, each with its line break; a quoted field may hold line breaks.
    static func csvRecords(_ text: String) -> [String] {
        var records: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            current.append(character)
            if character == "\"" { quoted.toggle() }
            if !quoted && (character == "\n" || character == "\r\n") {
                records.append(current)
                current = ""
            }
        }
        if !current.isEmpty { records.append(current) }
        return records
    }

    /// The fields of one CSV record, unquoted.
    static func csvFields(_ record: String) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var previousQuote = false
        for character in record {
            if character == "\"" {
                if quoted && previousQuote { field.append("\"") }
                quoted.toggle()
                previousQuote = !quoted
                continue
            }
            previousQuote = false
            if character == "," && !quoted {
                fields.append(field)
                field = ""
            } else if !quoted && (character == "\n" || character == "\r\n" || character == "\r") {
                continue
            } else {
                field.append(character)
            }
        }
        fields.append(field)
        return fields
    }

    /// Writes `text` to `path` through a file beside it and a rename, so a reader sees the old file or the new.
    static func replace(_ path: String, with text: String) throws {
        let temporary = path + ".forget-tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        if rename(temporary, path) != 0 {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CocoaError(.fileWriteUnknown)
        }
    }
}
