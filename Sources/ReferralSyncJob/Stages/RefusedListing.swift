import Postgres
import ReferralModel
import ReferralStore
import Reports

/// `refused.csv` of a `run` or an `events` run: every refusal still standing for the command's shard (README
/// "Refusals"), those of earlier runs too, with when each was first refused.
enum RefusedListing {
    /// What is listed: attribute values (`run`) or events (`events`).
    enum Kind {
        case values, events
    }

    /// Writes `refused.csv` into `folder`.
    /// - Returns: How many refusals stand.
    static func write(
        _ kind: Kind, to folder: ReportFolder, shard: Shard, on connection: PostgresConnection
    ) throws -> Int {
        let header = kind == .values ? Refusals.valueColumns : Refusals.eventColumns
        let csv = try CSVWriter(path: folder.path("refused.csv"), header: header)
        let count: Int
        switch kind {
        case .values:
            count = try Refusals.forEachValue(of: shard, on: connection) { csv.write($0) }
        case .events:
            count = try Refusals.forEachEvent(of: shard, on: connection) { csv.write($0) }
        }
        try csv.close()
        return count
    }

    /// The metric family of the refusals standing after the last run; no sample when they could not be counted.
    static func metricFamily(name: String, of what: String, standing: Int?) -> MetricFamily {
        MetricFamily(
            name: name, kind: .gauge,
            help: "\(what) Attentive refused for their content (400, 413, 422) and not sent again while unchanged "
                + "(refused.csv) after the last run; not counted as pending.",
            samples: standing.map { [([], Double($0))] } ?? [])
    }
}
