import Foundation
import Postgres
import ReferralModel
import ReferralStore
import Reports

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One metric family a command contributes to the metrics file: its name, type, help and samples.
struct MetricFamily {
    enum Kind: String {
        case gauge
        /// Summed over the runs that wrote the file: a sample is what this run adds to the previous value.
        case counter
    }

    var name: String
    var kind: Kind
    var help: String
    /// Extra labels and the value (a counter's: this run's increment).
    var samples: [([(String, String)], Double)]
}

/// `--metrics-file PATH`: the Prometheus text format, for node_exporter's textfile collector, rewritten at the
/// end of each run and replaced atomically (a temporary file in the same folder, synced, then renamed), so the
/// collector never reads half a file. Every series carries `command` (`run`, `drift`, `events`, `revenue`) and,
/// for a shard, `shard="K/N"`; give each command and shard its own file. The families every command writes are
/// here; a command adds its own (``CommandEnding/metricFamilies``).
public struct MetricsFile {
    let path: String
    let command: String
    let shard: Shard
    /// The store, labelled `store` unless it is the default one (a single store's series keep their labels).
    var store: String? = nil

    /// How a command ended, as the metrics file tells it.
    struct Ended {
        var status: ExitStatus
        /// Seconds per stage, in order.
        var stageSeconds: [(String, Double)]
        /// Participants the command recomputed (drift: selected for the check).
        var participants: Int
        /// The command's own families.
        var families: [MetricFamily]
    }

    /// Whether a metrics file can be written at `path`: its folder exists and is writable. Checked before anything
    /// runs.
    public static func canBeWritten(at path: String) -> Bool {
        let folder = (path as NSString).deletingLastPathComponent
        let directory = folder.isEmpty ? "." : folder
        var isDirectory: ObjCBool = false
        return !path.hasSuffix("/") && FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory)
            && isDirectory.boolValue && access(directory, W_OK) == 0
    }

    /// The labels every series of this file carries.
    var baseLabels: [(String, String)] {
        var labels = [("command", command)]
        if let store, store != StoreKeys.defaultStore { labels.append(("store", store)) }
        if shard != .all { labels.append(("shard", shard.description)) }
        return labels
    }

    /// Writes the metrics of a finished run.
    /// - Parameters:
    ///   - finishedAt: Unix time of the end of the run.
    ///   - history: Where to look for the last successful run when the previous file is gone (unsharded only).
    func write(_ ended: Ended, finishedAt: Double, history: () -> Double?) throws {
        let previous = (try? String(contentsOfFile: path, encoding: .utf8)).map(Self.samples) ?? [:]
        try writeAtomically(render(families(ended, finishedAt: finishedAt, previous: previous, history: history)))
    }

    /// Exit 0 (done) and 1 (done, needs attention) finished their work; any other status did not.
    static func finishedItsWork(_ status: ExitStatus) -> Bool { status == .success || status == .needsAttention }

    /// Every family of the file: those every command writes, then the command's own, each counter added to its
    /// previous value.
    func families(
        _ ended: Ended, finishedAt: Double, previous: [String: Double], history: () -> Double?
    ) -> [MetricFamily] {
        let lastSuccessName = "referral_sync_last_success_timestamp_seconds"
        let lastSuccess: Double
        if Self.finishedItsWork(ended.status) {
            lastSuccess = finishedAt
        } else {
            lastSuccess = previous[seriesKey(lastSuccessName, [])] ?? (shard == .all ? history() : nil) ?? 0
        }
        var stages = ended.stageSeconds.map { ([("stage", $0.0)], $0.1) }
        if !stages.isEmpty { stages.append(([("stage", "total")], ended.stageSeconds.reduce(0) { $0 + $1.1 })) }
        let shared = [
            MetricFamily(
                name: "referral_sync_last_run_timestamp_seconds", kind: .gauge,
                help: "When the last referral-sync run ended, in Unix time.", samples: [([], finishedAt)]),
            MetricFamily(
                name: lastSuccessName, kind: .gauge,
                help: "When the last referral-sync run that finished its work (exit 0 or 1) ended, in Unix time; "
                    + "0 when none is known.",
                samples: [([], lastSuccess)]),
            MetricFamily(
                name: "referral_sync_last_exit_status", kind: .gauge,
                help: "The exit status of the last referral-sync run (README \"Exit statuses\").",
                samples: [([], Double(ended.status.rawValue))]),
            MetricFamily(
                name: "referral_sync_duration_seconds", kind: .gauge,
                help: "Seconds the last run spent per stage, and in total.", samples: stages),
            MetricFamily(
                name: "referral_sync_participants", kind: .gauge,
                help: "Participants the last run recomputed (drift: selected for the check).",
                samples: [([], Double(ended.participants))]),
        ]
        let own = ended.families.map { family in
            guard family.kind == .counter else { return family }
            var summed = family
            summed.samples = family.samples.map { ($0.0, (previous[seriesKey(family.name, $0.0)] ?? 0) + $0.1) }
            return summed
        }
        return (shared + own).filter { !$0.samples.isEmpty }
    }

    /// The exposition text: `# HELP`, `# TYPE`, then one line per sample.
    func render(_ families: [MetricFamily]) -> String {
        var text = ""
        for family in families {
            text += "# HELP \(family.name) \(Self.escapeHelp(family.help))\n"
            text += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for (labels, value) in family.samples {
                text += seriesKey(family.name, labels) + " " + Self.format(value) + "\n"
            }
        }
        return text
    }

    /// `name{command="run",outcome="synced"}`: the series as written, also the key for reading it back.
    func seriesKey(_ name: String, _ labels: [(String, String)]) -> String {
        let all = baseLabels + labels
        return name + "{" + all.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// The samples of a previous file, by series as written.
    static func samples(_ text: String) -> [String: Double] {
        var found: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            found[String(line[..<space])] = value
        }
        return found
    }

    private func writeAtomically(_ text: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        // A dot-name without the .prom suffix: the textfile collector never reads the temporary file.
        let temporary = (folder.isEmpty ? "" : folder + "/") + ".\(name).\(getpid()).tmp"
        try writeTextFile(text, to: temporary)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ReportError(path: path, reason: reason)
        }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
    }

    static func escapeLabel(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func escapeHelp(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Unix time of the end of the newest run of `command` that finished its work, from the run history.
    static func lastSuccessInHistory(conninfo: String, schema: String?, command: String) -> Double? {
        guard let connection = try? PostgresConnection(conninfo: conninfo, connectTimeoutSeconds: 5, schema: schema)
        else { return nil }
        defer { connection.close() }
        let rows = try? connection.query(
            """
            SELECT extract(epoch FROM max(finished_at))::float8 FROM referral_sync_runs
            WHERE command = $1 AND exit_status IN (0, 1)
            """, [command])
        return rows?.first?[0].flatMap { Double($0) }
    }
}
