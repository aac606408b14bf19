import Foundation

/// A PostgreSQL cluster of one test's own, on a private port: for the faults that would hurt every other test on
/// the suite's shared cluster (a restart, a shutdown). Made with the same binaries and settings as
/// scripts/with-postgres.sh; ``stop()`` removes it.
public final class PrivateCluster: @unchecked Sendable {
    /// A conninfo for the cluster without a database name.
    public let server: String
    private let folder: String
    private let bin: String
    private let asOwner: [String]

    /// Creates and starts the cluster (initdb, then pg_ctl start).
    public init() async throws {
        let versions = try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")
        guard let version = versions.compactMap(Int.init).max() else {
            throw TestDatabase.Unavailable(description: "no PostgreSQL server under /usr/lib/postgresql")
        }
        bin = "/usr/lib/postgresql/\(version)/bin"
        folder = try makeTemporaryFolder("private-cluster")
        asOwner = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        if getuid() == 0 { _ = try await ChildProcess.run("/bin/chown", ["postgres", folder]) }
        let initdb = try await Self.run(
            bin, asOwner, "initdb",
            ["-D", folder + "/data", "-U", "referral", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        guard initdb.status == 0 else { throw TestDatabase.Unavailable(description: "initdb: \(initdb.output)") }
        // A random port may be taken (by another test's cluster, or as the local end of a loopback connection:
        // the range is inside Linux's ephemeral ports); the server then fails to bind, and another port is tried.
        var failure = ""
        for _ in 0..<3 {
            let port = Int.random(in: 41_000...49_000)
            let options = "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
            let started = try await Self.run(
                bin, asOwner, "pg_ctl",
                ["-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "-o", options, "start"])
            if started.status == 0 {
                server = "host=127.0.0.1 port=\(port) user=referral"
                return
            }
            failure = started.output
        }
        throw TestDatabase.Unavailable(description: "pg_ctl: \(failure)")
    }

    /// `pg_ctl restart -m fast`: every session ends, the server comes back on the same port.
    public func restart() async throws {
        let restarted = try await run("pg_ctl", ["-D", folder + "/data", "-m", "fast", "-w", "-t", "60", "restart"])
        guard restarted.status == 0 else { throw TestDatabase.Unavailable(description: "restart: \(restarted.output)") }
    }

    /// Stops the cluster and removes it.
    public func stop() async {
        _ = try? await run("pg_ctl", ["-D", folder + "/data", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func run(_ tool: String, _ arguments: [String]) async throws -> ChildProcess.Finished {
        try await Self.run(bin, asOwner, tool, arguments)
    }

    private static func run(_ bin: String, _ asOwner: [String], _ tool: String, _ arguments: [String]) async throws
        -> ChildProcess.Finished
    {
        let command = asOwner + [bin + "/" + tool] + arguments
        return try await ChildProcess.run(command[0], Array(command.dropFirst()), seconds: 90)
    }
}
