import AttentiveSimulator
import Foundation
import Postgres
import ReferralSyncJob
import TestSupport
import Testing

/// Issue 23: a database password, in whatever form libpq takes it, leaves no trace, not even a fragment, in the
/// run history, stderr, the metrics file or a report. Generated cases: quoted conninfo values with spaces, `\'`
/// and `\\`; `key = value` spacing; URIs with a percent-encoded password or `?password=`; `PGPASSWORD` alone.
@Suite struct PasswordRedactionTests {
    /// The password's letters are outside ASCII so that a four-character window holding one of them cannot
    /// occur in an output by chance; the ASCII characters are the ones quoting and URIs make hard.
    static let letters = Array("ÆØÅÞÐßŁŒĦŊ")
    static let awkward = Array(" '\\%@=?&/:#")

    /// A password of 8 to 20 characters from a seeded generator: at least two letters, often awkward characters.
    static func password(_ generator: inout SplitMix64) -> String {
        let length = Int.random(in: 8...20, using: &generator)
        var characters: [Character] = [letters[Int.random(in: 0..<letters.count, using: &generator)]]
        for _ in 1..<length {
            let pool = Bool.random(using: &generator) ? letters : awkward
            characters.append(pool[Int.random(in: 0..<pool.count, using: &generator)])
        }
        characters.append(letters[Int.random(in: 0..<letters.count, using: &generator)])
        return String(characters)
    }

    /// The ways a password reaches the job.
    enum Form: CaseIterable {
        case quoted, spacedQuoted, uriUserInfo, uriQuery, environmentOnly
    }

    /// `DATABASE_URL` (or `--database-url`) and the extra environment for `password` in `form`.
    static func connection(_ password: String, _ form: Form, server: (String, String), database: String) -> (
        conninfo: String, environment: [String: String]
    ) {
        let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let (host, port) = server
        switch form {
        case .quoted:
            return ("host=\(host) port=\(port) dbname=\(database) user=referral password='\(escaped)'", [:])
        case .spacedQuoted:
            return ("host=\(host)  port = \(port) dbname= \(database) password = '\(escaped)' user =referral", [:])
        case .uriUserInfo:
            return ("postgresql://referral:\(encoded)@\(host):\(port)/\(database)", [:])
        case .uriQuery:
            return ("postgresql://referral@\(host):\(port)/\(database)?password=\(encoded)&sslmode=disable", [:])
        case .environmentOnly:
            return ("postgresql://referral@\(host):\(port)/\(database)", ["PGPASSWORD": password])
        }
    }

    static var server: (String, String) {
        let environment = ProcessInfo.processInfo.environment
        return (environment["PGHOST"] ?? "127.0.0.1", environment["PGPORT"] ?? "5432")
    }

    /// The password's fragments an output must not contain: every window of four characters holding a letter,
    /// and the password percent-encoded.
    static func fragments(of password: String) -> [String] {
        let characters = Array(password)
        var found: Set<String> = []
        for start in 0...(characters.count - 4) {
            let window = characters[start..<start + 4]
            if window.contains(where: { letters.contains($0) }) { found.insert(String(window)) }
        }
        if let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
            found.insert(encoded)
        }
        return found.sorted()
    }

    @Test func fourHundredGeneratedPasswordsLeaveNoFragmentInTheHistoryArguments() throws {
        var generator = SplitMix64(seed: 23)
        for index in 0..<400 {
            let password = Self.password(&generator)
            let form = Form.allCases[index % Form.allCases.count]
            let (conninfo, environment) = Self.connection(password, form, server: Self.server, database: "shop")
            let secrets = Conninfo.secrets(in: conninfo, environment: environment)
            #expect(secrets.contains(password), "libpq did not read the password of \(form)")
            for arguments in [["run", "--database-url", conninfo], ["run", "--database-url=\(conninfo)"]] {
                let history = RunConfiguration.redactedArguments(arguments, secrets: secrets)
                for fragment in Self.fragments(of: password) where history.contains(fragment) {
                    Issue.record("\(form): '\(fragment)' of the password is in the history: \(history)")
                }
            }
        }
    }

    @Test func theIssuesTwoProbesKeepNothingOfThePassword() {
        let quoted = "host=127.0.0.1 port=5432 dbname=probe user=spacey password='two words\\'x'"
        let history = RunConfiguration.redactedArguments(
            ["--database-url", quoted], secrets: Conninfo.secrets(in: quoted, environment: [:]))
        // Rewritten from libpq's reading, in libpq's order of keywords.
        #expect(history == "--database-url user=spacey password=*** dbname=probe host=127.0.0.1 port=5432")
        let spaced = "host=db dbname=probe password = x user=sync"
        #expect(
            RunConfiguration.redactedArguments(["--database-url=\(spaced)"], secrets: [])
                == "--database-url=user=sync password=*** dbname=probe host=db")
    }

    @Test func generatedPasswordsLeaveNoFragmentInAnyOutputOfTheJob() async throws {
        let harness = try await ExecutableHarness()
        try harness.insertParticipants(0..<3)
        var generator = SplitMix64(seed: 2023)
        var outputs: [String] = []
        var passwords: [String] = []
        let metrics = harness.reportsDirectory + "/referral_sync.prom"
        for index in 0..<30 {
            let password = Self.password(&generator)
            passwords.append(password)
            let form = Form.allCases[index % Form.allCases.count]
            let (conninfo, extra) = Self.connection(
                password, form, server: Self.server, database: harness.database.name)
            var environment = harness.environment.merging(extra) { $1 }
            let arguments: [String]
            if index % 2 == 0 {
                environment["DATABASE_URL"] = conninfo
                arguments = ["run", "--dry-run", "--verbose", "--metrics-file", metrics]
            } else {
                arguments = ["run", "--dry-run", "--verbose", "--metrics-file", metrics, "--database-url", conninfo]
            }
            let finished = try await JobProcess.run(arguments, environment: environment)
            #expect(finished.status == 0, "\(form): \(finished.stderr)")
            // A failing connection's message goes through the same redaction.
            let (missing, _) = Self.connection(password, form, server: Self.server, database: "no_such_database")
            let failed = try await JobProcess.run(
                ["run", "--dry-run", "--database-url", missing], environment: environment)
            // The cluster trusts `referral`: a missing database is a failed connection (69), not refused credentials.
            #expect(failed.status == 69, "\(form): \(failed.stderr)")
            #expect(failed.stderr.contains("no_such_database"), "\(failed.stderr)")
            outputs += [finished.stdout, finished.stderr, failed.stdout, failed.stderr]
        }
        outputs += try harness.database.query("SELECT row_to_json(t)::text FROM referral_sync_runs t").compactMap {
            $0[0]
        }
        #expect(outputs.contains { $0.contains("--database-url") && $0.contains("***") })
        for path in try FileManager.default.subpathsOfDirectory(atPath: harness.reportsDirectory) {
            let file = harness.reportsDirectory + "/" + path
            if let text = try? String(contentsOfFile: file, encoding: .utf8) { outputs.append(text) }
        }
        #expect(outputs.contains { $0.contains("referral_sync_last_run_timestamp_seconds") })
        let everything = outputs.joined(separator: "\n")
        for password in passwords {
            for fragment in Self.fragments(of: password) where everything.contains(fragment) {
                Issue.record("'\(fragment)' of a password is in an output")
            }
        }
    }
}
