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

/// `--metrics-file PATH`: the Prometheus text format, for node_exporter's textfile collector, rewritten at the
/// end of each run and replaced atomically (a temporary file in the same folder, synced, then renamed), so the
/// collector never reads half a file. Every series carries `command` (`run` or `drift`) and, for a shard,
/// `shard="K/N"`; give each command and shard its own file.
public struct MetricsFile {
    let path: String
    let command: String
    let shard: Shard
    /// The store, labelled `store` unless it is the default one (a single store's series keep their labels).
    var store: String? = nil

    /// One metric family: its name, type, help and samples (extra labels, value).
    struct Family {
        var name: String
        var type: String
        var help: String
        var samples: [([(String, String)], Double)]
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
    func write(_ result: RunResult, finishedAt: Double, history: () -> Double?) throws {
        let previous = (try? String(contentsOfFile: path, encoding: .utf8)).map(Self.samples) ?? [:]
        try writeAtomically(render(families(result, finishedAt: finishedAt, previous: previous, history: history)))
    }

    /// Exit 0 (done) and 1 (done, needs attention) finished their work; any other status did not.
    static func finishedItsWork(_ status: ExitStatus) -> Bool { status == .success || status == .needsAttention }

    func families(
        _ result: RunResult, finishedAt: Double, previous: [String: Double], history: () -> Double?
    ) -> [Family] {
        let lastSuccessName = "referral_sync_last_success_timestamp_seconds"
        let lastSuccess: Double
        if Self.finishedItsWork(result.status) {
            lastSuccess = finishedAt
        } else {
            lastSuccess = previous[seriesKey(lastSuccessName, [])] ?? (shard == .all ? history() : nil) ?? 0
        }
        var families = [
            Family(
                name: "referral_sync_last_run_timestamp_seconds", type: "gauge",
                help: "When the last referral-sync run ended, in Unix time.", samples: [([], finishedAt)]),
            Family(
                name: lastSuccessName, type: "gauge",
                help: "When the last referral-sync run that finished its work (exit 0 or 1) ended, in Unix time; "
                    + "0 when none is known.",
                samples: [([], lastSuccess)]),
            Family(
                name: "referral_sync_last_exit_status", type: "gauge",
                help: "The exit status of the last referral-sync run (README \"Exit statuses\").",
                samples: [([], Double(result.status.rawValue))]),
        ]
        var stages = result.stageSeconds.map { ([("stage", $0.0)], $0.1) }
        if !stages.isEmpty { stages.append(([("stage", "total")], result.stageSeconds.reduce(0) { $0 + $1.1 })) }
        families.append(
            Family(
                name: "referral_sync_duration_seconds", type: "gauge",
                help: "Seconds the last run spent per stage, and in total.", samples: stages))
        families.append(
            Family(
                name: "referral_sync_participants", type: "gauge",
                help: "Participants the last run recomputed (drift: selected for the check).",
                samples: [([], Double(result.counts.participants))]))
        if command == "run" {
            let rowsName = "referral_sync_rows_total"
            families.append(
                Family(
                    name: rowsName, type: "counter",
                    help: "Changed attribute values by outcome, summed over the runs that wrote this file.",
                    samples: SyncOutcome.allCases.map { outcome in
                        let labels = [("outcome", outcome.rawValue)]
                        return (labels, (previous[seriesKey(rowsName, labels)] ?? 0) + Double(result.counts[outcome]))
                    }))
            families.append(
                Family(
                    name: "referral_sync_last_run_rows", type: "gauge",
                    help: "Changed attribute values of the last run by outcome.",
                    samples: SyncOutcome.allCases.map { ([("outcome", $0.rawValue)], Double(result.counts[$0])) }))
            families.append(
                Family(
                    name: "referral_sync_last_run_warnings", type: "gauge",
                    help: "Participants of the last run with each warning of warnings.csv, by its code.",
                    samples: OutboundWarning.all.map {
                        ([("reason", $0.code)], Double(result.counts.warningsByReason[$0.code] ?? 0))
                    }))
            if let pending = result.pendingValues {
                families.append(
                    Family(
                        name: "referral_sync_pending_rows", type: "gauge",
                        help: "Attribute values not yet accepted by Attentive after the last run.",
                        samples: [([], Double(pending))]))
            }
        }
        if command == "events", let events = result.eventCounts {
            let eventsName = "referral_sync_events_total"
            families.append(
                Family(
                    name: eventsName, type: "counter",
                    help: "Referral events by outcome, summed over the runs that wrote this file.",
                    samples: EventOutcome.allCases.map { outcome in
                        let labels = [("outcome", outcome.rawValue)]
                        return (labels, (previous[seriesKey(eventsName, labels)] ?? 0) + Double(events[outcome] ?? 0))
                    }))
            families.append(
                Family(
                    name: "referral_sync_last_run_events", type: "gauge",
                    help: "Referral events of the last run by outcome.",
                    samples: EventOutcome.allCases.map { ([("outcome", $0.rawValue)], Double(events[$0] ?? 0)) }))
            if let pending = result.pendingValues {
                families.append(
                    Family(
                        name: "referral_sync_pending_events", type: "gauge",
                        help: "Referral events not yet delivered to Attentive after the last run.",
                        samples: [([], Double(pending))]))
            }
        }
        if let drift = result.driftRows {
            families.append(
                Family(
                    name: "referral_sync_drift_rows", type: "gauge",
                    help: "Attribute values the last drift check found different in Attentive.",
                    samples: [([], Double(drift))]))
        }
        return families.filter { !$0.samples.isEmpty }
    }

    /// The exposition text: `# HELP`, `# TYPE`, then one line per sample.
    func render(_ families: [Family]) -> String {
        var text = ""
        for family in families {
            text += "# HELP \(family.name) \(Self.escapeHelp(family.help))\n"
            text += "# TYPE \(family.name) \(family.type)\n"
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

extension MetricsFile {
    /// Writes `--metrics-file`, if set, for a finished `run` or `drift`. Not when another run held the lock
    /// (exit 75): that run writes the file when it ends. A failure to write is logged and does not change the
    /// exit status (the stale timestamps are what an alert on the file notices).
    public static func record(
        _ result: RunResult, command: String, configuration: RunConfiguration, logger: Logger
    ) {
        guard let path = configuration.metricsFile, result.status != .locked else { return }
        let file = MetricsFile(
            path: path, command: command, shard: configuration.shard, store: result.store ?? configuration.schema)
        do {
            try file.write(result, finishedAt: Date().timeIntervalSince1970) {
                MetricsFile.lastSuccessInHistory(
                    conninfo: configuration.databaseURL, schema: configuration.schema, command: command)
            }
        } catch {
            logger.error("could not write the metrics file", [("path", path), ("error", "\(error)")])
        }
    }
}
