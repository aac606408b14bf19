import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with an empty signal mask and default signal handling.
///
/// Foundation's `Process` on Linux passes the test runner's signal mask on to the child, where almost every
/// signal is blocked: `timeout` then never fires (SIGALRM) and `terminate()` (SIGTERM) does nothing. A helper
/// server started through this type can be bounded by `timeout` and stopped.
public final class SpawnedProcess: @unchecked Sendable {
    /// The child's process id.
    public let pid: pid_t
    private var reaped = false

    /// Why the process could not be started.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// How a process ended, with the CPU time it used (from `wait4`, the child's own `getrusage`).
    public struct Exit: Sendable {
        /// The exit status, or 128 + the signal that ended it.
        public var status: Int32
        /// User plus system CPU seconds of the process.
        public var cpuSeconds: Double
    }

    /// Starts `executable` with `arguments`, stdout and stderr appended to `outputPath`, stdin from /dev/null.
    /// - Parameter environment: The child's whole environment; the test's own when `nil`.
    public init(
        _ executable: String, _ arguments: [String], outputPath: String, environment: [String: String]? = nil
    ) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var envp: [UnsafeMutablePointer<CChar>?] = (environment ?? [:]).map { strdup("\($0.key)=\($0.value)") }
        envp.append(nil)
        defer { for pointer in envp { free(pointer) } }
        var child: pid_t = 0
        let result = envp.withUnsafeMutableBufferPointer { variables in
            posix_spawn(
                &child, executable, &actions, &attributes, argv, environment == nil ? environ : variables.baseAddress)
        }
        guard result == 0 else { throw Failure(description: "posix_spawn \(executable) failed: \(result)") }
        pid = child
    }

    /// Sends SIGTERM and waits for the process to end (SIGKILL after five seconds). Idempotent.
    public func stop() {
        guard !reaped else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                return
            }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        reaped = true
    }

    /// Waits up to `seconds` for the process to end by itself, then stops it.
    public func wait(seconds: Double) {
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(seconds)
        while !reaped, Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                return
            }
            usleep(20_000)
        }
        stop()
    }

    /// Awaits the end of the process without blocking a thread (it is polled), at most `seconds`, then stops
    /// it. Returns its status and CPU time, or `nil` when it had to be stopped or was already reaped.
    public func exit(within seconds: Double) async -> Exit? {
        let deadline = Date().addingTimeInterval(seconds)
        while !reaped, Date() < deadline {
            var status: Int32 = 0
            var usage = rusage()
            if wait4(pid, &status, WNOHANG, &usage) == pid {
                reaped = true
                let signal = status & 0x7f
                let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
                func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
                return Exit(status: code, cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime))
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        stop()
        return nil
    }

    deinit { stop() }
}
