import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// `--metrics-file`: node_exporter textfile metrics, checked by `promtool check metrics`.
@Suite struct MetricsFileTests {
    /// `promtool` from the Debian `prometheus` package, which `make test` installs.
    static func promtool(_ file: String) async throws -> ChildProcess.Finished {
        let candidates = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        let path = try #require(
            candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
            "promtool is missing: `make test` installs the Debian package prometheus")
        return try await ChildProcess.run(path, ["check", "metrics"], input: file)
    }

    static func samples(_ path: String) throws -> [String: Double] {
        MetricsFile.samples(try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test func runMetricsPassPromtoolAndCountRowsByOutcome() async throws {
        let harness = try await JobHarness()
        try ExitStatusTests.oneReferrer(harness)
        let path = harness.reportsDirectory + "/referral_sync.prom"
        #expect(await harness.run(["--metrics-file", path]).0 == .success)
        let check = try await Self.promtool(path)
        #expect(check.status == 0, "\(check.output)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for name in [
            "referral_sync_last_run_timestamp_seconds", "referral_sync_last_success_timestamp_seconds",
            "referral_sync_rows_total", "referral_sync_duration_seconds", "referral_sync_pending_rows",
        ] {
            #expect(text.contains("# HELP \(name) "))
            #expect(text.contains("# TYPE \(name) "))
        }
        let samples = try Self.samples(path)
        #expect(samples["referral_sync_rows_total{command=\"run\",outcome=\"synced\"}"] == 4)
        #expect(samples["referral_sync_pending_rows{command=\"run\"}"] == 0)
        #expect(samples["referral_sync_last_exit_status{command=\"run\"}"] == 0)
        #expect(samples["referral_sync_duration_seconds{command=\"run\",stage=\"total\"}"] != nil)
        let now = Date().timeIntervalSince1970
        let lastRun = try #require(samples["referral_sync_last_run_timestamp_seconds{command=\"run\"}"])
        #expect(abs(lastRun - now) < 3600)
        #expect(samples["referral_sync_last_success_timestamp_seconds{command=\"run\"}"] == lastRun)
        // No temporary file is left beside it.
        let left = try FileManager.default.contentsOfDirectory(atPath: harness.reportsDirectory)
        #expect(!left.contains { $0.hasSuffix(".tmp") })

        // The counter adds up over runs.
        var more = ReferralHistory()
        more.referral("r2", by: "c1")
        more.order("o2", for: "r2", total: "5.00")
        try more.insert(into: harness.database)
        #expect(await harness.run(["--metrics-file", path]).0 == .success)
        #expect(try Self.samples(path)["referral_sync_rows_total{command=\"run\",outcome=\"synced\"}"] == 6)
        #expect(try Self.samples(path)["referral_sync_last_run_rows{command=\"run\",outcome=\"synced\"}"] == 2)
    }

    @Test func failedRunKeepsTheLastSuccessFromTheFileOrTheHistory() async throws {
        let harness = try await JobHarness()
        try ExitStatusTests.oneReferrer(harness)
        let path = harness.reportsDirectory + "/referral_sync.prom"
        let successKey = "referral_sync_last_success_timestamp_seconds{command=\"run\"}"
        #expect(await harness.run(["--metrics-file", path]).0 == .success)
        let success = try #require(try Self.samples(path)[successKey])

        var more = ReferralHistory()
        more.referral("r2", by: "c1")
        more.order("o2", for: "r2", total: "5.00")
        try more.insert(into: harness.database)
        // Port 1 has no listener: Attentive unreachable (a stopped simulator's port can be reused by another test's).
        let unreachable = ["ATTENTIVE_BASE_URL": "http://127.0.0.1:1"]
        #expect(await harness.run(["--metrics-file", path], environment: unreachable).0 == .unavailable)
        let failed = try Self.samples(path)
        #expect(failed[successKey] == success)
        #expect(failed["referral_sync_last_exit_status{command=\"run\"}"] == 69)
        #expect(try #require(failed["referral_sync_last_run_timestamp_seconds{command=\"run\"}"]) >= success)
        #expect(failed["referral_sync_pending_rows{command=\"run\"}"] == 2)
        #expect(try await Self.promtool(path).status == 0)

        // Without the old file, the run history says when the last successful run ended.
        try FileManager.default.removeItem(atPath: path)
        #expect(await harness.run(["--metrics-file", path], environment: unreachable).0 == .unavailable)
        let recorded = try harness.database.query(
            "SELECT extract(epoch FROM finished_at)::float8 FROM referral_sync_runs WHERE exit_status = 0")
        let fromHistory = try #require(recorded.first?[0].flatMap { Double($0) })
        let fromFile = try #require(try Self.samples(path)[successKey])
        #expect(abs(fromFile - fromHistory) < 0.01)
    }

    @Test func runThatCannotOpenItsSessionKeepsTheCountersAndSaysItsStatus() async throws {
        let harness = try await JobHarness()
        try ExitStatusTests.oneReferrer(harness)
        let path = harness.reportsDirectory + "/referral_sync.prom"
        let synced = "referral_sync_rows_total{command=\"run\",outcome=\"synced\"}"
        #expect(await harness.run(["--metrics-file", path]).0 == .success)
        #expect(try Self.samples(path)[synced] == 4)

        // A second currency and none set: the session stops before the run's stages (78).
        var euro = ReferralHistory()
        euro.referral("r2", by: "c1")
        euro.order("o2", for: "r2", total: "5.00", currency: "EUR")
        try euro.insert(into: harness.database)
        #expect(await harness.run(["--metrics-file", path]).0 == .configuration)
        let samples = try Self.samples(path)
        #expect(samples["referral_sync_last_exit_status{command=\"run\"}"] == 78)
        #expect(samples[synced] == 4)
        #expect(samples["referral_sync_last_run_rows{command=\"run\",outcome=\"synced\"}"] == 0)
        #expect(samples["referral_sync_participants{command=\"run\"}"] == 0)
        #expect(samples["referral_sync_pending_rows{command=\"run\"}"] == nil)
        #expect(!samples.keys.contains { $0.hasPrefix("referral_sync_duration_seconds") })
        #expect(try await Self.promtool(path).status == 0)
    }

    @Test func driftAndShardMetricsCarryTheirLabels() async throws {
        let harness = try await JobHarness()
        try ExitStatusTests.oneReferrer(harness)
        let runPath = harness.reportsDirectory + "/run.prom"
        let driftPath = harness.reportsDirectory + "/drift.prom"
        #expect(await harness.run(["--metrics-file", runPath, "--shard", "1/2"]).0 == .success)
        #expect(try await Self.promtool(runPath).status == 0)
        #expect(try Self.samples(runPath)["referral_sync_last_exit_status{command=\"run\",shard=\"1/2\"}"] == 0)

        #expect(await harness.run().0 == .success)
        harness.simulator.reset()
        #expect(await harness.drift(["--metrics-file", driftPath]).0 == .needsAttention)
        let check = try await Self.promtool(driftPath)
        #expect(check.status == 0, "\(check.output)")
        let drift = try Self.samples(driftPath)
        #expect(drift["referral_sync_drift_rows{command=\"drift\"}"] == 4)
        #expect(drift["referral_sync_last_exit_status{command=\"drift\"}"] == 1)
    }

    @Test func unwritableMetricsFolderIsRejectedBeforeTheRun() async throws {
        let harness = try await JobHarness()
        try ExitStatusTests.oneReferrer(harness)
        let missing = harness.reportsDirectory + "/no/such/folder/referral_sync.prom"
        #expect(await harness.run(["--metrics-file", missing]).0 == .usage)
        #expect(await harness.run(environment: ["REFERRAL_SYNC_METRICS_FILE": missing]).0 == .configuration)
        #expect(harness.simulator.statistics().requests == 0)
    }

    @Test func lockedOutRunLeavesTheMetricsToTheRunningOne() async throws {
        let harness = try await JobHarness()
        let path = harness.reportsDirectory + "/referral_sync.prom"
        let holder = try LockHolder(harness)
        #expect(try holder.holdWholeRun())
        #expect(await harness.run(["--metrics-file", path, "--currency", "USD"]).0 == .locked)
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
