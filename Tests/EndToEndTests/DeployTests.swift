import Foundation
import TestSupport
import Testing

/// The scheduling examples in deploy/: valid, and acting on the exit statuses.
@Suite struct DeployTests {
    static let deploy = repositoryRoot + "/deploy"

    /// `key=value` settings of a unit file section by section (`Section.Key` → values, in order).
    static func unitSettings(_ path: String) throws -> [String: [String]] {
        var settings: [String: [String]] = [:]
        var section = ""
        for raw in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            settings[section + "." + line[..<equals], default: []].append(String(line[line.index(after: equals)...]))
        }
        return settings
    }

    /// A manifest of deploy/ (`path` below it) as Kubernetes reads it: PyYAML (Debian python3-yaml, installed by
    /// `make test`), as JSON.
    static func yaml(_ path: String) async throws -> [String: Any] {
        let (status, json) = try await run(
            "/usr/bin/python3",
            ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", deploy + path])
        #expect(status == 0, "\(json)")
        return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil)
        async throws -> (Int32, String)
    {
        let finished = try await ChildProcess.run(executable, arguments, environment: environment)
        return (finished.status, finished.output)
    }

    @Test func systemdUnitsActOnTheExitStatuses() throws {
        for name in ["referral-sync.service", "referral-sync-drift.service"] {
            let service = try Self.unitSettings(Self.deploy + "/systemd/" + name)
            #expect(service["Service.Type"] == ["oneshot"])
            #expect(service["Service.ExecStart"]?.first?.hasPrefix("/usr/local/bin/referral-sync ") == true)
            #expect(service["Service.SuccessExitStatus"] == ["143"])
            #expect(service["Service.Restart"] == ["on-failure"])
            #expect(
                Set(service["Service.RestartPreventExitStatus"]?.first?.split(separator: " ") ?? [])
                    == ["1", "64", "65", "77", "78"])
            #expect(service["Unit.OnFailure"] == ["referral-sync-alert@%n.service"])
            #expect(service["Service.EnvironmentFile"] == ["/etc/referral-sync/environment"])
        }
        let timer = try Self.unitSettings(Self.deploy + "/systemd/referral-sync.timer")
        #expect(timer["Timer.OnCalendar"] == ["*-*-* 03:30:00 UTC"])
        #expect(timer["Timer.Persistent"] == ["true"])
        #expect(timer["Timer.Unit"] == ["referral-sync.service"])
        #expect(timer["Install.WantedBy"] == ["timers.target"])

        let events = try Self.unitSettings(Self.deploy + "/systemd/referral-sync-events.service")
        #expect(events["Service.ExecStart"]?.first?.hasPrefix("/usr/local/bin/referral-sync events ") == true)
        #expect(Set(events["Service.SuccessExitStatus"]?.first?.split(separator: " ") ?? []) == ["75", "143"])
        #expect(events["Unit.OnFailure"] == ["referral-sync-alert@%n.service"])
        let eventsTimer = try Self.unitSettings(Self.deploy + "/systemd/referral-sync-events.timer")
        #expect(eventsTimer["Timer.OnCalendar"] == ["*:0/5"])
        #expect(eventsTimer["Timer.Unit"] == ["referral-sync-events.service"])
    }

    @Test func theFollowerUnitRestartsUnlessAPersonMustAct() throws {
        let follower = try Self.unitSettings(Self.deploy + "/systemd/referral-sync-events-follower.service")
        let exec = follower["Service.ExecStart"]?.first ?? ""
        #expect(exec.hasPrefix("/usr/local/bin/referral-sync events --follow "))
        #expect(follower["Service.Restart"] == ["always"])
        #expect(
            Set(follower["Service.RestartPreventExitStatus"]?.first?.split(separator: " ") ?? []) == ["64", "77", "78"])
        #expect(follower["Service.SuccessExitStatus"] == ["143"])
        // The timer is the alternative: starting the follower stops it.
        #expect(follower["Unit.Conflicts"] == ["referral-sync-events.timer"])
        #expect(follower["Unit.OnFailure"] == ["referral-sync-alert@%n.service"])
        #expect(follower["Install.WantedBy"] == ["multi-user.target"])
    }

    @Test func theFollowerDeploymentRunsAnActiveAndAStandby() async throws {
        let manifest = try await Self.yaml("/kubernetes/deployment-events-follower.yaml")
        #expect(manifest["kind"] as? String == "Deployment")
        let spec = try #require(manifest["spec"] as? [String: Any])
        #expect(spec["replicas"] as? Int == 2)
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["terminationGracePeriodSeconds"] as? Int == 180)
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        #expect((container["args"] as? [String])?.prefix(2) == ["events", "--follow"])
    }

    static let analyze = "/usr/bin/systemd-analyze"

    /// Where systemd is not installed, systemdUnitsActOnTheExitStatuses still parses the units.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyze)))
    func systemdAnalyzeVerifiesTheUnits() async throws {
        let analyze = Self.analyze
        let binary = try #require(JobProcess.binary, "referral-sync is not built")
        // verify checks that ExecStart's program exists: point the units at the built one.
        let folder = try makeTemporaryFolder("units")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let names = [
            "referral-sync.service", "referral-sync.timer", "referral-sync-drift.service",
            "referral-sync-drift.timer", "referral-sync-alert@.service", "referral-sync-events.service",
            "referral-sync-events.timer", "referral-sync-events-follower.service",
        ]
        for name in names {
            let text = try String(contentsOfFile: Self.deploy + "/systemd/" + name, encoding: .utf8)
                .replacingOccurrences(
                    of: "/usr/local/bin/referral-sync-alert", with: Self.deploy + "/systemd/referral-sync-alert"
                )
                .replacingOccurrences(of: "/usr/local/bin/referral-sync ", with: binary + " ")
            try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
        }
        let (status, output) = try await Self.run(analyze, ["verify", "--man=no"] + names.map { folder + "/" + $0 })
        #expect(status == 0, "\(output)")
        #expect(output.isEmpty, "\(output)")
    }

    @Test func storeTemplatesRunTheStoreOfTheirInstanceName() throws {
        for name in ["referral-sync@.service", "referral-sync-events@.service"] {
            let service = try Self.unitSettings(Self.deploy + "/systemd/" + name)
            #expect(service["Service.EnvironmentFile"] == ["/etc/referral-sync/%i.env"])
            let exec = service["Service.ExecStart"]?.first ?? ""
            #expect(exec.contains(" --schema %i "))
            #expect(exec.contains("/var/lib/referral-sync/%i/"))
            #expect(exec.contains("_%i.prom"))
        }
        for (timer, unit) in [
            ("referral-sync@.timer", "referral-sync@%i.service"),
            ("referral-sync-events@.timer", "referral-sync-events@%i.service"),
        ] {
            #expect(try Self.unitSettings(Self.deploy + "/systemd/" + timer)["Timer.Unit"] == [unit])
        }
        let cron = try String(contentsOfFile: Self.deploy + "/cron/referral-sync-stores.cron", encoding: .utf8)
        let jobs = cron.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("MAILTO") && !$0.isEmpty }
        #expect(jobs.count == 4)
        for store in ["us", "eu"] {
            let lines = jobs.filter { $0.contains("--schema \(store) ") }
            #expect(lines.count == 2)
            #expect(lines.allSatisfy { $0.contains("REFERRAL_SYNC_ENV_FILE=/etc/referral-sync/\(store).env ") })
        }
    }

    @Test func theStoreOverlayAddsItsSchemaSecretAndVolume() async throws {
        let overlay = try await Self.yaml("/kubernetes/stores/eu/kustomization.yaml")
        #expect(overlay["resources"] as? [String] == ["../.."])
        #expect(overlay["nameSuffix"] as? String == "-eu")
        let patch = try #require(((overlay["patches"] as? [[String: Any]])?.first)?["patch"] as? String)
        #expect(patch.contains("name: REFERRAL_SYNC_SCHEMA"))
        #expect(patch.contains("value: eu\n"))
        #expect(patch.contains("value: referral-sync-eu"))
        #expect(patch.contains("value: referral-sync-reports-eu"))
    }

    @Test func crontabLinesAreWellFormed() throws {
        let text = try String(contentsOfFile: Self.deploy + "/cron/referral-sync.cron", encoding: .utf8)
        let jobs = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.contains("=") && !$0.isEmpty }
        #expect(jobs.count == 3)
        for job in jobs {
            let fields = job.split(separator: " ")
            #expect(fields.count >= 8)
            for field in fields.prefix(5) { #expect(field.allSatisfy { $0.isNumber || "*/,-".contains($0) }) }
            #expect(fields[5] == "referral-sync")
            #expect(fields[6] == "/usr/local/bin/referral-sync-cron")
        }
        #expect(jobs.first?.split(separator: " ")[7] == "run")
        #expect(jobs.dropFirst().first?.split(separator: " ")[7] == "drift")
        #expect(jobs.last?.split(separator: " ")[7] == "events")
        #expect(jobs.last?.split(separator: " ").prefix(5).joined(separator: " ") == "*/5 * * * *")
    }

    @Test func cronWrapperAlertsWithTheInstructionAndKeepsTheStatus() async throws {
        let binary = try #require(JobProcess.binary, "referral-sync is not built")
        let folder = try makeTemporaryFolder("cron")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let alerts = folder + "/alerts"
        let alertCommand = folder + "/alert.sh"
        try "#!/bin/sh\necho \"$*\" >> \(alerts)\n".write(toFile: alertCommand, atomically: true, encoding: .utf8)
        chmod(alertCommand, 0o755)
        let environmentFile = folder + "/environment"
        try "DATABASE_URL=host=127.0.0.1 port=1 dbname=none\n".write(
            toFile: environmentFile, atomically: true, encoding: .utf8)
        let wrapper = Self.deploy + "/cron/referral-sync-cron"
        let environment = [
            "PATH": "/usr/bin:/bin", "REFERRAL_SYNC_BIN": binary, "REFERRAL_SYNC_ALERT_COMMAND": alertCommand,
            "REFERRAL_SYNC_ENV_FILE": environmentFile,
        ]
        // No ATTENTIVE_API_KEY: a configuration error, 78, alerted with the job's instruction.
        let (status, output) = try await Self.run(wrapper, ["run"], environment: environment)
        #expect(status == 78)
        #expect(output.contains("referral-sync: exit 78: ATTENTIVE_API_KEY is not set"))
        let alerted = try String(contentsOfFile: alerts, encoding: .utf8)
        #expect(alerted.contains("failed with exit status 78: referral-sync: exit 78: ATTENTIVE_API_KEY is not set"))

        // With the key, the settings file's DATABASE_URL (a closed port) gives 69.
        var withKey = environment
        withKey["ATTENTIVE_API_KEY"] = "k"
        #expect(try await Self.run(wrapper, ["run", "--dry-run"], environment: withKey).0 == 69)
        #expect(try String(contentsOfFile: alerts, encoding: .utf8).contains("exit status 69"))

        // Success is quiet.
        let before = try String(contentsOfFile: alerts, encoding: .utf8)
        #expect(try await Self.run(wrapper, ["--version"], environment: environment).0 == 0)
        #expect(try String(contentsOfFile: alerts, encoding: .utf8) == before)
    }

    @Test(arguments: [("cronjob.yaml", "run"), ("cronjob-events.yaml", "events")])
    func kubernetesCronJobNeverOverlapsAndActsOnTheExitStatuses(file: String, command: String) async throws {
        let manifest = try await Self.yaml("/kubernetes/" + file)
        #expect(manifest["kind"] as? String == "CronJob")
        #expect(manifest["apiVersion"] as? String == "batch/v1")
        let spec = try #require(manifest["spec"] as? [String: Any])
        #expect(spec["concurrencyPolicy"] as? String == "Forbid")
        let job = try #require((spec["jobTemplate"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(job["backoffLimit"] as? Int == 3)
        let rules = try #require((job["podFailurePolicy"] as? [String: Any])?["rules"] as? [[String: Any]])
        func codes(_ action: String) -> Set<Int> {
            Set(
                rules.filter { $0["action"] as? String == action }
                    .flatMap { (($0["onExitCodes"] as? [String: Any])?["values"] as? [Int]) ?? [] })
        }
        #expect(codes("FailJob") == [1, 64, 65, 77, 78])
        #expect(codes("Count") == [69, 75])
        #expect(rules.contains { $0["action"] as? String == "Ignore" && $0["onPodConditions"] != nil })
        let pod = try #require((job["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["restartPolicy"] as? String == "Never")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        #expect(container["name"] as? String == "referral-sync")
        #expect((container["args"] as? [String])?.first == command)
    }
}
