/// One participant as the attribute query returns it: the recomputed attributes beside what Attentive last
/// accepted (the ledger), and which attributes changed.
public struct ParticipantState: Sendable, Equatable {
    public var customerID: String
    /// The email and phone as stored in `customers`.
    public var rawEmail: String?
    public var rawPhone: String?
    /// The identity Attentive gets: normalised, and `nil` where the raw value is not valid.
    public var identity: Identity
    /// The recomputed values, formatted exactly as sent (`nil` = absent).
    public var values: [OkendoAttribute: String]
    /// The values Attentive last accepted (`nil` = none).
    public var ledgerValues: [OkendoAttribute: String]
    /// Whether a ledger row exists for this participant.
    public var hasLedger: Bool
    /// Whether the participant's identity differs from the one Attentive accepted the ledger values for.
    public var identityChanged: Bool
    /// The attributes to send, as the SQL comparison decided, less the refused ones set aside.
    public var changedAttributes: [OkendoAttribute]
    /// Changed attributes whose value Attentive refused for its content, as it is now and for this identity
    /// (README "Refusals"): not sent again (not in ``changedAttributes``) unless the run retries refusals.
    public var refusedAttributes: [OkendoAttribute] = []
    /// Why the identity cannot be sent, as the SQL identity rules decided (no usable identity, or an email or
    /// phone that another participant also has); `nil` when it can be sent.
    public var identityProblem: String?

    public init(
        customerID: String, rawEmail: String?, rawPhone: String?, identity: Identity,
        values: [OkendoAttribute: String], ledgerValues: [OkendoAttribute: String], hasLedger: Bool,
        identityChanged: Bool, changedAttributes: [OkendoAttribute], identityProblem: String? = nil
    ) {
        self.customerID = customerID
        self.rawEmail = rawEmail
        self.rawPhone = rawPhone
        self.identity = identity
        self.values = values
        self.ledgerValues = ledgerValues
        self.hasLedger = hasLedger
        self.identityChanged = identityChanged
        self.changedAttributes = changedAttributes
        self.identityProblem = identityProblem
    }

    /// The properties of the request for this participant: each changed attribute with its new value. An
    /// attribute that had a value and now has none is sent as an empty string, which clears it in Attentive.
    public var changedProperties: [String: String] {
        var properties: [String: String] = [:]
        for attribute in changedAttributes { properties[attribute.rawValue] = values[attribute] ?? "" }
        return properties
    }

    /// Why this participant cannot be sent, or `nil` when it can.
    public var unsendableReason: String? {
        if let identityProblem { return identityProblem }
        guard identity.isEmpty else { return nil }
        let email = rawEmail.map { $0.isEmpty ? "empty" : "not a valid address" } ?? "missing"
        let phone = rawPhone.map { $0.isEmpty ? "empty" : "not valid E.164" } ?? "missing"
        return "no usable identity: email \(email), phone \(phone)"
    }
}

/// How Attentive identifies a user: a normalised email, an E.164 phone, or both.
public struct Identity: Hashable, Sendable, Codable {
    public var email: String?
    public var phone: String?
    public init(email: String?, phone: String?) {
        self.email = email
        self.phone = phone
    }
    /// True when there is nothing to identify the user by.
    public var isEmpty: Bool { email == nil && phone == nil }
}

/// What happened to one changed attribute value in a run (`changes.csv`'s `outcome` column).
public enum SyncOutcome: String, Sendable, Codable, CaseIterable {
    /// Attentive answered 2xx; the ledger holds the value.
    case synced
    /// Attentive could not be reached, or refused it for a reason that may pass; it stays pending for the next run.
    case failed
    /// Attentive refused its content (400, 413, 422): it is not sent again while the value and the identity are
    /// unchanged, unless `--retry-refused` (README "Refusals"; listed in `refused.csv`).
    case refused
    /// Not sendable (see the error column); stays pending until the input is fixed.
    case skipped
    /// `--dry-run`: it would have been sent.
    case dryRun = "dry_run"
    /// Inside a bulk job Attentive has not finished; the next run collects the result.
    case inFlight = "in_flight"
}
