import AttentiveSimulator
import Foundation
import Postgres

/// Checks that a sync has converged: what Attentive (the simulator) holds is exactly the truth the job computed
/// (`attributes.csv`), the ledger says exactly what the simulator holds, and nothing the simulator refused is in
/// the ledger. Written independently of the job's code, so it checks the job rather than repeating it.
public enum Convergence {
    /// `attributes.csv` column → Attentive attribute name.
    public static let attributeColumns = [
        ("shareable_link", "Okendo Referral Shareable Link"),
        ("successful_referrals", "Okendo Number of Successful Referrals"),
        ("latest_successful_referral_at", "Okendo Latest Successful Referral Date"),
        ("total_successful_referral_revenue", "Okendo Total Successful Referral Revenue"),
    ]

    /// Ledger column → Attentive attribute name.
    static let ledgerColumns = [
        ("shareable_link", "Okendo Referral Shareable Link"),
        ("successful_referrals", "Okendo Number of Successful Referrals"),
        ("latest_successful_referral_at", "Okendo Latest Successful Referral Date"),
        ("total_successful_referral_revenue", "Okendo Total Successful Referral Revenue"),
    ]

    /// Every difference found, in words; empty when the sync has converged.
    /// - Parameters:
    ///   - truth: The rows of the latest run's `attributes.csv`; every participant must have a lower-case,
    ///     valid email (the tests' data is built so).
    ///   - refused: Emails the simulator refuses (its `badIdentities`): never in the simulator nor the ledger,
    ///     their values pending `failed`.
    public static func mismatches(
        truth: [[String: String]], database: TestDatabase, simulator: AttentiveSimulator, refused: Set<String> = []
    ) throws -> [String] {
        var found: [String] = []
        let ledger = try ledgerRows(database)
        for row in truth {
            let customer = row["customer_id"] ?? "?"
            let email = row["email"] ?? ""
            if refused.contains(email) {
                if simulator.profile(email: email) != nil { found.append("\(customer): refused, yet in Attentive") }
                if ledger[customer] != nil { found.append("\(customer): refused, yet in the ledger") }
                continue
            }
            guard let profile = simulator.profile(email: email) else {
                found.append("\(customer): not in Attentive")
                continue
            }
            for (column, name) in attributeColumns {
                let expected = row[column] ?? ""
                let held = profile.attributes[name]
                if expected.isEmpty ? !(held ?? "").isEmpty : held != expected {
                    found.append(
                        "\(customer): Attentive holds \(name) = \(held ?? "nothing"), the truth is '\(expected)'")
                }
            }
            guard let entry = ledger[customer] else {
                found.append("\(customer): not in the ledger")
                continue
            }
            for (column, name) in ledgerColumns where (entry[column] ?? nil) != (profile.attributes[name] ?? nil) {
                // The ledger records an absent value as NULL; Attentive holds nothing or "" (a cleared value).
                if (entry[column] ?? nil) == nil, (profile.attributes[name] ?? "").isEmpty { continue }
                found.append(
                    "\(customer): the ledger says \(name) = \(entry[column].flatMap { $0 } ?? "NULL"), "
                        + "Attentive holds \(profile.attributes[name] ?? "nothing")")
            }
            if entry["email"] ?? nil != email { found.append("\(customer): the ledger's email is not \(email)") }
        }
        let pending = try database.query("SELECT customer_id, state FROM referral_sync_pending")
        let refusedCustomers = Set(
            truth.filter { refused.contains($0["email"] ?? "") }.compactMap { $0["customer_id"] })
        for row in pending {
            let customer = row[0] ?? "?"
            if !refusedCustomers.contains(customer) {
                found.append("\(customer): still pending (\(row[1] ?? "?")) after convergence")
            } else if row[1] != "failed" {
                found.append("\(customer): refused, but pending as \(row[1] ?? "?") rather than failed")
            }
        }
        return found
    }

    /// Every ledger value Attentive does not hold: a value marked synced that Attentive never accepted. Empty
    /// whatever point a run stopped at.
    public static func ledgerNotInAttentive(database: TestDatabase, simulator: AttentiveSimulator) throws -> [String] {
        var found: [String] = []
        for (customer, entry) in try ledgerRows(database) {
            guard let email = entry["email"] ?? nil, let profile = simulator.profile(email: email) else {
                found.append("\(customer): in the ledger, not in Attentive")
                continue
            }
            for (column, name) in ledgerColumns {
                let recorded = entry[column] ?? nil
                let held = profile.attributes[name]
                if recorded.map({ $0 != held }) ?? !(held ?? "").isEmpty {
                    found.append(
                        "\(customer): the ledger says \(name) = \(recorded ?? "NULL"), Attentive \(held ?? "nothing")")
                }
            }
        }
        return found
    }

    /// Every row of a run's `changes.csv` whose outcome the database and Attentive do not bear out: `synced` must be
    /// in the ledger and in Attentive with that value, `failed`, `skipped` and `in_flight` must be pending in that
    /// state; and no value may appear twice.
    public static func unaccounted(
        changes: [[String: String]], database: TestDatabase, simulator: AttentiveSimulator
    ) throws -> [String] {
        var found: [String] = []
        let ledger = try ledgerRows(database)
        var pending: [String: String] = [:]
        for row in try database.query("SELECT customer_id, attribute, state FROM referral_sync_pending") {
            pending[(row[0] ?? "") + "/" + (row[1] ?? "")] = row[2] ?? ""
        }
        var seen: Set<String> = []
        for row in changes {
            let customer = row["customer_id"] ?? "?"
            let attribute = row["attribute"] ?? "?"
            let key = customer + "/" + attribute
            if !seen.insert(key).inserted { found.append("\(key): more than one row") }
            let value = row["new_value"] ?? ""
            switch row["outcome"] ?? "" {
            case "synced":
                let column = ledgerColumns.first { $0.1 == attribute }?.0 ?? "?"
                let recorded = ledger[customer]?[column] ?? nil
                if (recorded ?? "") != value { found.append("\(key): synced, the ledger holds \(recorded ?? "NULL")") }
                let email = ledger[customer]?["email"] ?? nil
                let held = email.flatMap { simulator.profile(email: $0)?.attributes[attribute] }
                if (held ?? "") != value { found.append("\(key): synced, Attentive holds \(held ?? "nothing")") }
            case let state:
                if pending[key] != state { found.append("\(key): \(state), pending says \(pending[key] ?? "nothing")") }
            }
        }
        return found
    }

    /// The ledger by customer id: column name → value (nil for NULL).
    static func ledgerRows(_ database: TestDatabase) throws -> [String: [String: String?]] {
        var rows: [String: [String: String?]] = [:]
        for row in try database.query(
            """
            SELECT customer_id, email, phone, shareable_link, successful_referrals, latest_successful_referral_at,
                   total_successful_referral_revenue
            FROM referral_sync_ledger
            """)
        {
            rows[row[0] ?? ""] = [
                "email": row[1], "phone": row[2], "shareable_link": row[3], "successful_referrals": row[4],
                "latest_successful_referral_at": row[5], "total_successful_referral_revenue": row[6],
            ]
        }
        return rows
    }
}

extension ReferralHistory {
    /// `count` participants `p000`…: each opted in with the email `pNNN@example.com` and a link; every third has a
    /// phone; participant i made i % 3 successful referrals (of 10.00 + i) so the values differ.
    public static func participants(_ range: Range<Int>, prefix: String = "p") -> ReferralHistory {
        var history = ReferralHistory()
        for index in range {
            let id = String(format: "\(prefix)%03d", index)
            let phone = index % 3 == 0 ? String(format: "+1415555%04d", index) : nil
            history.customer(.init(id, email: "\(id)@example.com", phone: phone, link: "https://test.oken.do/\(id)"))
            for referral in 0..<(index % 3) {
                history.referral("r-\(id)-\(referral)", by: id)
                history.order(
                    "o-\(id)-\(referral)", for: "r-\(id)-\(referral)", total: "\(10 + index).\(referral)5",
                    at: "2024-03-0\(referral + 1)T10:00:00.123Z")
            }
        }
        return history
    }
}
