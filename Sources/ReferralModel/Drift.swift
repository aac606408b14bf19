/// Why an attribute value in Attentive is not the value the job expects (`drift.csv`'s `kind` column).
public enum DriftKind: String, Sendable, CaseIterable, Codable {
    /// Attentive holds what it last accepted from the job, but the truth changed since: the next run sends it.
    case pending
    /// Attentive holds a value the job never sent for this identity: someone or something changed it behind the
    /// job's back. The next run does not send it again unless the truth changes or the ledger entry is forgotten.
    case changedInAttentive = "changed_in_attentive"
    /// Attentive holds nothing (no attribute, or no user) where it had accepted a value from the job.
    case missingInAttentive = "missing_in_attentive"
    /// Attentive refused the expected value for its content (README "Refusals", `refused.csv`): no run sends it
    /// again while it is unchanged, unless `run --retry-refused`. Not drift: Attentive never took it.
    case refused

    /// Whether the next run corrects it without help.
    public var fixedByNextRun: Bool { self == .pending }

    /// Whether `drift --repair` (forgetting the ledger entry, so the next run sends every value) is its remedy.
    public var repairedByForgetting: Bool { self == .changedInAttentive || self == .missingInAttentive }
}

/// One attribute of one participant whose value in Attentive is not the expected one.
public struct DriftFinding: Sendable, Equatable {
    public var customerID: String
    public var attribute: OkendoAttribute
    /// What Attentive holds (`nil` = nothing).
    public var attentiveValue: String?
    /// The recomputed truth (`nil` = absent).
    public var expectedValue: String?
    /// What Attentive last accepted from the job for this identity (`nil` = nothing).
    public var ledgerValue: String?
    public var kind: DriftKind

    public init(
        customerID: String, attribute: OkendoAttribute, attentiveValue: String?, expectedValue: String?,
        ledgerValue: String?, kind: DriftKind
    ) {
        self.customerID = customerID
        self.attribute = attribute
        self.attentiveValue = attentiveValue
        self.expectedValue = expectedValue
        self.ledgerValue = ledgerValue
        self.kind = kind
    }
}

/// Compares what Attentive holds for a participant with the truth and the ledger. Pure: no I/O.
public enum DriftComparison {
    /// The drifted attributes of `participant`, in attribute order.
    ///
    /// An absent value and an empty string are the same (the job clears an attribute by sending `""`). When the
    /// participant's identity changed, or the ledger has no row, Attentive accepted nothing for this identity yet.
    /// - Parameters:
    ///   - participant: The recomputed participant with its ledger values, as the attribute query returns it.
    ///   - attentive: The user's custom attributes in Attentive (empty when Attentive does not know the user).
    public static func findings(for participant: ParticipantState, attentive: [String: String]) -> [DriftFinding] {
        let acceptedForThisIdentity = participant.hasLedger && !participant.identityChanged
        var found: [DriftFinding] = []
        for attribute in OkendoAttribute.allCases {
            let held = nonEmpty(attentive[attribute.rawValue])
            let expected = nonEmpty(participant.values[attribute])
            let ledger = acceptedForThisIdentity ? nonEmpty(participant.ledgerValues[attribute]) : nil
            guard held != expected else { continue }
            let kind: DriftKind
            if participant.refusedAttributes.contains(attribute) {
                kind = .refused
            } else if held == ledger {
                kind = .pending
            } else if held == nil {
                kind = .missingInAttentive
            } else {
                kind = .changedInAttentive
            }
            found.append(
                DriftFinding(
                    customerID: participant.customerID, attribute: attribute, attentiveValue: held,
                    expectedValue: expected, ledgerValue: ledger, kind: kind))
        }
        return found
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
