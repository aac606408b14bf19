import Postgres
import ReferralModel

/// The rows whose events a run considers: the keys of each source table (from the event notes), or every row.
public struct EventKeys: Sendable, Equatable {
    public var customers: [String] = []
    public var referrals: [String] = []
    /// Referrals whose reward may have changed: an order or a rejection of theirs (or the referral) changed.
    public var redemptions: [String] = []
    public var rejections: [String] = []
    public var coupons: [String] = []
    /// Every row of the history (a backfill, or the first run).
    public var everything = false
    /// How many input rows were noted (or read in the first run's window), each once, before their dependents: a
    /// noted referral is one row, though it is a key of ``referrals``, ``redemptions`` and ``rejections``.
    public var rows = 0

    public init() {}

    /// How many keys were noted.
    public var count: Int { customers.count + referrals.count + redemptions.count + rejections.count + coupons.count }

    /// The keys of both, each once.
    static func merging(_ first: EventKeys, _ second: EventKeys) -> EventKeys {
        func union(_ a: [String], _ b: [String]) -> [String] { Array(Set(a).union(b)).sorted() }
        var merged = EventKeys()
        merged.customers = union(first.customers, second.customers)
        merged.referrals = union(first.referrals, second.referrals)
        merged.redemptions = union(first.redemptions, second.redemptions)
        merged.rejections = union(first.rejections, second.rejections)
        merged.coupons = union(first.coupons, second.coupons)
        return merged
    }
}

/// An event's state in the events ledger: `referral_sync_events.state`, the values of migration 0008's CHECK.
public enum EventLedgerState: String, Sendable, Equatable {
    /// Found, not yet sent.
    case pending
    /// Marked just before its request started; a run that died leaves it so, and the next run sends it again.
    case inFlight = "in_flight"
    /// Attentive answered 2xx: never sent again.
    case delivered
    /// Unreachable, not sent, or refused for a reason that may pass: the next run sends it again, with the same body.
    case failed
    /// Refused for its content (400, 413, 422): its body never changes, so it is sent again only on
    /// `--retry-refused` (README "Refusals").
    case refused
}

/// One event (or a row that cannot make its event) as `sql/definitions/85_events.sql` derives it.
public struct EventCandidate: Sendable, Equatable {
    /// `type|role|source:key`: the name of its UUID and its key in the ledger.
    public var key: String
    public var type: String
    public var role: String
    /// The input row it comes from, `table:key`.
    public var sourceRow: String
    /// The note that brings its row back (for an event not yet due).
    public var noteSource: String
    public var noteKey: String
    /// `occurredAt` in the attribute date format.
    public var occurredAt: String
    /// `occurred_at` as PostgreSQL writes it (to note the row again for that time).
    public var occurredAtRaw: String
    public var email: String?
    public var phone: String?
    /// The properties object as JSON text.
    public var properties: String?
    /// Why it is not sent (`not_yet`, `no_usable_identity`, a rejected-row reason code), or `nil`.
    public var reason: String?
    /// Older than `--max-age` at the as-of.
    public var tooOld: Bool
    /// Its state in the events ledger, when it is there.
    public var ledgerState: EventLedgerState?
    /// Which shard (1…N) sends it.
    public var shardNumber: Int = 1
    /// Whether bidirectional or control characters were removed from its properties.
    public var textCleaned = false
    /// The words of the warning when its user is sent with one identity because the rules refuse the other
    /// (`warnings.csv`'s `email_not_usable` / `phone_not_usable`), or `nil`.
    public var warning: String? = nil
}

/// An event of the ledger still to be sent: pending, failed, or in flight when a run died.
public struct UnsentEvent: Sendable, Equatable {
    public var key: String
    public var id: String
    public var type: String
    public var role: String
    public var sourceRow: String
    public var occurredAt: String
    public var email: String?
    public var phone: String?
    public var body: String
    /// Its state in the ledger; `nil` for a new event a dry run lists without adding it.
    public var state: EventLedgerState?
    /// Attempts over every run so far.
    public var attempts: Int
    /// The warning frozen with it: its user sent with one identity, the rules refusing the other (or `nil`).
    public var warning: String?

    public init(
        key: String, id: String, type: String, role: String, sourceRow: String, occurredAt: String, email: String?,
        phone: String?, body: String, state: EventLedgerState?, attempts: Int, warning: String? = nil
    ) {
        self.warning = warning
        self.key = key
        self.id = id
        self.type = type
        self.role = role
        self.sourceRow = sourceRow
        self.occurredAt = occurredAt
        self.email = email
        self.phone = phone
        self.body = body
        self.state = state
        self.attempts = attempts
    }
}
