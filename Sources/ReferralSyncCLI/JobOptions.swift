import Attentive
import Foundation
import Options
import ReferralModel
import ReferralStore
import ReferralSyncJob

/// Every option of `referral-sync`, each declared once with its variable, default, parser and help. Commands
/// list the ones they take (``runOptions``, ``driftOptions``, …).
enum JobOptions {
    static let databaseURL = Option<String?>(
        text: "database-url", environment: "DATABASE_URL", unsetMeans: "PG* variables",
        summary: "libpq conninfo or postgresql:// URI")
    static let schema = Option<String?>(
        "schema", environment: "REFERRAL_SYNC_SCHEMA", unsetMeans: "the connection's search_path",
        summary: "the store's schema: its input tables and referral-sync's own (README \"Several stores\")",
        expected: "a PostgreSQL schema name: 1 to 63 bytes",
        read: { text in
            !text.isEmpty && text.utf8.count <= 63 && !text.contains("\u{0}") ? text : nil
        })
    static let createSchema = Option(
        flag: "create-schema", environment: "REFERRAL_SYNC_CREATE_SCHEMA",
        summary: "migrate: create the --schema when it does not exist")
    static let asOf = Option<Timestamp?>(
        "as-of", environment: "REFERRAL_SYNC_AS_OF", unsetMeans: "now",
        summary: "count only rows at or before this ISO 8601 time",
        expected: "an ISO 8601 time with a zone, e.g. 2024-11-08T00:00:00Z, or a date 2024-11-08",
        read: { Timestamp(iso8601: $0) })
    static let currency = Option<Currency?>(
        "currency", environment: "REFERRAL_SHOP_CURRENCY", unsetMeans: "the only one in referral_orders",
        summary: "the shop currency, ISO 4217", expected: "a three-letter ISO 4217 code such as USD",
        read: { Currency(code: $0) })
    static let reportsDirectory = Option<String>(
        "reports-dir", environment: "REFERRAL_SYNC_REPORTS_DIR", default: "reports", defaultText: "./reports",
        summary: "where run folders are written", expected: "a folder", read: { $0 })
    static let dryRun = Option(
        flag: "dry-run", environment: "REFERRAL_SYNC_DRY_RUN", summary: "send nothing; write what would be sent")
    static let fullRecompute = Option(
        flag: "full-recompute", environment: "REFERRAL_SYNC_FULL_RECOMPUTE",
        summary: "recompute every customer, not only those whose inputs changed since the last run")
    static let retryRefused = Option(
        flag: "retry-refused", environment: "REFERRAL_SYNC_RETRY_REFUSED",
        summary: "send again every value and event Attentive refused for its content (refused.csv)")
    static let mode = Option<RunConfiguration.Mode>(
        "mode", environment: "REFERRAL_SYNC_MODE", default: .v1,
        summary: "v1 (one request per participant) or bulk", expected: "v1 or bulk",
        read: { RunConfiguration.Mode(rawValue: $0) })
    static let bulkWait = Option<Double>(
        "bulk-wait", environment: "REFERRAL_SYNC_BULK_WAIT", default: 300, defaultText: "300",
        summary: "bulk: seconds to wait for this run's jobs before leaving them in flight",
        expected: "seconds from 0 to 86400", read: { number($0, in: 0...86_400) })
    static let bulkBatchSize = Option<Int>(
        "bulk-batch-size", environment: "REFERRAL_SYNC_BULK_BATCH_SIZE", default: 256,
        summary: "bulk: participants per job, 1 to 256",
        expected: "a whole number from 1 to 256 (Attentive takes at most 256 users a job)",
        read: { wholeNumber($0, in: 1...256) })
    static let retryBudget = Option<Double>(
        "retry-budget", environment: "REFERRAL_SYNC_RETRY_BUDGET",
        default: RetryPolicy.default.maxTotalRetryTime.inSeconds,
        defaultText: shown(RetryPolicy.default.maxTotalRetryTime.inSeconds),
        summary: "seconds the whole run may spend waiting to retry requests", expected: "seconds from 0 to 86400",
        read: { number($0, in: 0...86_400) })
    static let maxRequestsPerSecond = Option<Double>(
        "max-rps", environment: "REFERRAL_SYNC_MAX_RPS",
        default: AttentiveClientConfiguration.attentiveRequestsPerSecond,
        defaultText: shown(AttentiveClientConfiguration.attentiveRequestsPerSecond),
        summary: "requests per second at most", expected: "a number of requests per second above 0 and at most 10000",
        read: { text in number(text, in: 0...10_000).flatMap { $0 > 0 ? $0 : nil } })
    static let concurrency = Option<Int>(
        "concurrency", environment: "REFERRAL_SYNC_CONCURRENCY", default: 32, summary: "requests in flight at most",
        expected: "a whole number from 1 to 1024", read: { wholeNumber($0, in: 1...1024) })
    static let requestTimeout = Option<Double>(
        "request-timeout", environment: "REFERRAL_SYNC_REQUEST_TIMEOUT",
        default: AttentiveClientConfiguration.defaultRequestTimeout.inSeconds,
        defaultText: shown(AttentiveClientConfiguration.defaultRequestTimeout.inSeconds),
        summary: "seconds before a request is given up and retried", expected: "seconds above 0 and at most 600",
        read: { text in number(text, in: 0...600).flatMap { $0 > 0 ? $0 : nil } })
    static let maxAttempts = Option<Int>(
        "max-attempts", environment: "REFERRAL_SYNC_MAX_ATTEMPTS", default: RetryPolicy.default.maxAttempts,
        summary: "HTTP attempts per request at most, retries included", expected: "a whole number from 1 to 20",
        read: { wholeNumber($0, in: 1...20) })
    static let defaultPhoneRegion = Option<String?>(
        "default-phone-region", environment: "REFERRAL_SYNC_DEFAULT_PHONE_REGION", unsetMeans: "none, not sent",
        summary: "read national phone numbers as this region's: US or CA",
        expected: "US or CA: only North American numbers (10 digits, optionally after 1) are unambiguous "
            + "without a country code",
        read: { ["US", "CA"].contains($0.uppercased()) ? $0.uppercased() : nil })
    static let shard = Option<Shard>(
        "shard", environment: "REFERRAL_SYNC_SHARD", default: .all, defaultText: "1/1",
        summary: "K/N: take the K-th of N slices of participants (N at most \(StoreKeys.maximumShardCount))",
        expected: "K/N with 1 <= K <= N <= \(StoreKeys.maximumShardCount), e.g. 1/2",
        read: { text in
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 2, let number = parts[0], let count = parts[1],
                (1...StoreKeys.maximumShardCount).contains(count), (1...count).contains(number)
            else { return nil }
            return Shard(number: number, count: count)
        })
    static let keep = Option<Int>(
        "keep", environment: "REFERRAL_SYNC_KEEP", default: 0, defaultText: "all",
        summary: "keep only the newest N report folders",
        expected: "a whole number of report folders to keep (0 keeps all)",
        read: { text in Int(text).flatMap { $0 >= 0 ? $0 : nil } })
    static let metricsFile = Option<String?>(
        text: "metrics-file", environment: "REFERRAL_SYNC_METRICS_FILE",
        summary: "write Prometheus textfile metrics here")
    static let logFormat = Option<Logger.Format>(
        "log-format", environment: "REFERRAL_SYNC_LOG_FORMAT", default: .logfmt, summary: "logfmt or json",
        expected: "logfmt or json", read: { Logger.Format(rawValue: $0) })
    static let quiet = Option(
        flag: "quiet", environment: "REFERRAL_SYNC_QUIET", summary: "log warnings and errors only")
    static let verbose = Option(flag: "verbose", environment: "REFERRAL_SYNC_VERBOSE", summary: "log debug lines too")
    static let help = Option(flag: "help", summary: "show this help")

    // drift
    static let sample = Option<Int?>(
        "sample", environment: "REFERRAL_SYNC_DRIFT_SAMPLE", unsetMeans: "all",
        summary: "check at most N participants, a deterministic sample that changes with the as-of date",
        expected: "a whole number of participants above 0", read: { wholeNumber($0, in: 1...10_000_000) })
    static let repair = Option(
        flag: "repair", environment: "REFERRAL_SYNC_DRIFT_REPAIR",
        summary: "forget the ledger entries of drifted participants so the next run sends them again")

    // events
    static let maxAge = Option<Double>(
        "max-age", environment: "REFERRAL_SYNC_EVENTS_MAX_AGE", default: 12, defaultText: "12",
        summary: "events: hours after which an event is too old to send (Attentive's journey window is 12)",
        expected: "hours above 0 and at most 87600",
        read: { text in number(text, in: 0...87_600).flatMap { $0 > 0 ? $0 : nil } })
    static let eventBodyRetention = Option<Int>(
        "event-body-retention-days", environment: "REFERRAL_SYNC_EVENT_BODY_RETENTION_DAYS", default: 30,
        summary: "events: days a delivered event's body keeps its properties and user; then only its id, type, "
            + "role, source key, time, outcome and hash stay",
        expected: "a whole number of days from 0 to 36500",
        read: { text in Int(text).flatMap { (0...36_500).contains($0) ? $0 : nil } })
    static let backfill = Option(
        flag: "backfill", environment: "REFERRAL_SYNC_EVENTS_BACKFILL",
        summary: "events: read the whole history and send every event not yet delivered, whatever its age")
    static let eventTypeNames = Option<String?>(
        text: "event-type-names", environment: "REFERRAL_SYNC_EVENT_TYPE_NAMES", unsetMeans: "Okendo's names",
        summary: "events: a UTF-8 file of lines `Okendo name = name to send`: the event types Attentive receives "
            + "under names of the merchant's choosing (ids stay Okendo's)")

    static let follow = Option(
        flag: "follow", environment: "REFERRAL_SYNC_EVENTS_FOLLOW",
        summary: "events: keep running and deliver each event within seconds of the commit that implies it "
            + "(README \"Events\": timer or follower)")
    static let sweepSeconds = Option<Double>(
        "sweep-seconds", environment: "REFERRAL_SYNC_EVENTS_SWEEP_SECONDS", default: 60, defaultText: "60",
        summary: "events --follow: seconds between sweeps that find what a lost notification would miss",
        expected: "seconds from 1 to 3600", read: { number($0, in: 1...3600) })
    static let reportEvery = Option<Double>(
        "report-every", environment: "REFERRAL_SYNC_EVENTS_REPORT_EVERY", default: 3600, defaultText: "1h",
        summary: "events --follow: how long one report period lasts (its report folder and run-history row)",
        expected: "a duration from 1s to 24h: seconds, or a number with s, m or h (90, 15m, 1h)",
        read: { duration($0, in: 1...86_400) })

    // explain
    static let explainFormat = Option<ExplainFormat>(
        "format", environment: "REFERRAL_SYNC_EXPLAIN_FORMAT", default: .markdown,
        summary: "markdown, csv (one row per referral and order) or json", expected: "markdown, csv or json",
        read: { ExplainFormat(rawValue: $0) })

    // history
    static let last = Option<Int>(
        "last", default: 20, summary: "how many runs to show", expected: "a whole number above 0",
        read: { text in Int(text).flatMap { $0 > 0 ? $0 : nil } })

    // revenue (README "Finance")
    static let from = Option<CalendarSpan?>(
        "from", unsetMeans: "the first dated row", summary: "revenue: the first day, month, quarter or year",
        expected: "a date 2025-01-01, a month 2025-11, a quarter 2025-Q4 or a year 2025",
        read: { CalendarSpan($0) })
    static let to = Option<CalendarSpan?>(
        "to", unsetMeans: "the period of --as-of", summary: "revenue: the last day, month, quarter or year (inclusive)",
        expected: "a date 2025-01-31, a month 2025-11, a quarter 2025-Q4 or a year 2025",
        read: { CalendarSpan($0) })
    static let by = Option<PeriodUnit>(
        "by", default: .month, summary: "revenue: day, week (ISO, Monday first), month, quarter or year",
        expected: "day, week, month, quarter or year", read: { PeriodUnit(rawValue: $0) })
    static let timeZone = Option<String>(
        "timezone", environment: "REFERRAL_SYNC_TIMEZONE", default: "UTC",
        summary: "revenue: the IANA time zone where a day starts",
        expected: "an IANA time zone name such as UTC, Europe/Berlin or America/New_York",
        read: { text in
            text.isEmpty || text.count > 64
                || !text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/_+-".contains($0)) })
                ? nil : text
        })
    static let basis = Option<RevenueBasis>(
        "basis", default: .redemption,
        summary: "revenue: redemption (restates past periods) or booked (reverses in the rejection's period)",
        expected: "redemption or booked", read: { RevenueBasis(rawValue: $0) })
    static let close = Option<CalendarSpan?>(
        "close", environment: "REFERRAL_SYNC_REVENUE_CLOSE", unsetMeans: "close nothing",
        summary: "revenue: close this month, quarter or year of the booked basis after reporting it (implies "
            + "--basis booked and --by its unit; refused, exit 64, if closed already, not ended by --as-of or after "
            + "an open period)",
        expected: "a month 2025-11, a quarter 2025-Q4 or a year 2025",
        read: { text in CalendarSpan(text).flatMap { text.split(separator: "-").count == 3 ? nil : $0 } })
    static let closed = Option(
        flag: "closed", environment: "REFERRAL_SYNC_REVENUE_CLOSED",
        summary: "revenue: list the closed periods (who, when, as-of, figures) and exit; writes no report")
    static let schemas = Option<[String]?>(
        "schemas", environment: "REFERRAL_SYNC_SCHEMAS", unsetMeans: "the one store of --schema",
        summary: "revenue: one report across these stores' schemas, side by side and per currency (not with --schema)",
        expected: "schema names separated by commas, e.g. eu,us,uk",
        read: { text in
            let names = text.split(separator: ",", omittingEmptySubsequences: false).map {
                String($0).trimmingCharacters(in: .whitespaces)
            }
            let valid = names.allSatisfy { !$0.isEmpty && $0.utf8.count <= 63 && !$0.contains("\u{0}") }
            return valid && Set(names).count == names.count ? names : nil
        })
    static let allSchemas = Option(
        flag: "all-schemas", environment: "REFERRAL_SYNC_ALL_SCHEMAS",
        summary: "revenue: one report across every schema with referral-sync's tables (not with --schema)")
    static let top = Option<Int>(
        "top", default: 20, summary: "revenue: how many top referrers revenue.md lists",
        expected: "a whole number from 0 to 10000", read: { wholeNumber($0, in: 0...10_000) })

    /// The options of `run`, in help order.
    static let runOptions: [any OptionDeclaration] = [
        databaseURL, schema, asOf, currency, reportsDirectory, dryRun, fullRecompute, retryRefused, mode, bulkWait,
        bulkBatchSize, retryBudget, maxRequestsPerSecond, concurrency, requestTimeout, maxAttempts, defaultPhoneRegion,
        shard, keep,
        metricsFile, logFormat, quiet, verbose, help,
    ]
    /// The options of `drift`: those of `run` that apply to reading (not `--dry-run`, `--mode`,
    /// `--retry-refused`), plus `--sample` and `--repair`.
    static let driftOptions: [any OptionDeclaration] =
        runOptions.filter { ![dryRun.name, mode.name, retryRefused.name, help.name].contains($0.name) }
        + [sample, repair, help]
    /// The options of `events`: those of `run` that apply to events (not `--mode`, `--bulk-*`,
    /// `--full-recompute`), plus `--max-age`, `--backfill`, the body retention, `--event-type-names` and the follower's.
    static let eventsOptions: [any OptionDeclaration] =
        runOptions.filter {
            ![mode.name, bulkWait.name, bulkBatchSize.name, fullRecompute.name, help.name].contains($0.name)
        } + [maxAge, backfill, eventBodyRetention, eventTypeNames, follow, sweepSeconds, reportEvery, help]
    static let migrateOptions: [any OptionDeclaration] = [databaseURL, schema, createSchema, help]
    static let historyOptions: [any OptionDeclaration] = [databaseURL, schema, last, help]
    /// The options of `revenue`: those of `run` that apply to reading and reporting, plus its own. It takes
    /// `--default-phone-region` so that it refreshes the kept recompute for the same region as `run`.
    static let revenueOptions: [any OptionDeclaration] = [
        databaseURL, schema, asOf, currency, reportsDirectory, from, to, by, timeZone, basis, close, closed, schemas,
        allSchemas, top, defaultPhoneRegion, keep,
        metricsFile, logFormat, quiet, verbose, help,
    ]
    /// The options of `explain`: what the recompute is for, as for `run`, and the output format.
    static let explainOptions: [any OptionDeclaration] = [
        databaseURL, schema, asOf, currency, defaultPhoneRegion, explainFormat, logFormat, quiet, verbose, help,
    ]

    // forget
    static let fromFile = Option<String?>(
        text: "from-file", summary: "forget: read the people to forget from this file, one a line (as PERSON)")

    static let requestDeletion = Option(
        flag: "request-deletion",
        summary: "forget: also file Attentive's deletion request for each email and phone, and record the ids")
    static let deletionStatus = Option(
        flag: "status",
        summary: "forget: print each recorded deletion request's processed state from Attentive (no PERSON)")

    /// The options of `forget`: the lookups of `explain` (the phone region), where the kept report folders are,
    /// the people's file, and Attentive's deletion requests (filed, or their status read).
    static let forgetOptions: [any OptionDeclaration] = [
        databaseURL, schema, currency, reportsDirectory, defaultPhoneRegion, fromFile, requestDeletion,
        deletionStatus, metricsFile, logFormat, quiet, verbose, help,
    ]

    /// A number in `range`, finite.
    static func number(_ text: String, in range: ClosedRange<Double>) -> Double? {
        guard let value = Double(text), value.isFinite, range.contains(value) else { return nil }
        return value
    }

    /// A duration in seconds from `90`, `90s`, `15m` or `1h`, within `range`.
    static func duration(_ text: String, in range: ClosedRange<Double>) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        let unit = text.last.flatMap { units[$0] }
        return number(unit == nil ? text : String(text.dropLast()), in: 0...Double.greatestFiniteMagnitude)
            .map { $0 * (unit ?? 1) }.flatMap { range.contains($0) ? $0 : nil }
    }

    /// A number as `--help` shows a default: `150`, `0.5`.
    static func shown(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// A whole number in `range`.
    static func wholeNumber(_ text: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = Int(text), range.contains(value) else { return nil }
        return value
    }
}
