import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started by `posix_spawn`, with an empty signal mask and default signal handling: the one way
/// tests start a program.
///
/// Tests never use Foundation's `Process`: on Linux with Swift 6.3.1 its `run()` crashes the whole test run now and
/// then (swift-corelibs-foundation PR #5472: `findMaximumOpenFromProcSelfFD()` reads 256 bytes past a buffer, a
/// SIGSEGV in `memcpy` about one run in five of a suite that starts many children). It also passes the test
/// runner's signal mask on to the child, where almost every signal is blocked: `timeout` then never fires
/// (SIGALRM) and SIGTERM does nothing. A child started here gets what a scheduler gives it: no blocked signal,
/// default handlers, stdin, stdout and stderr from files, and no other descriptor of the test runner.
public final class SpawnedProcess: @unchecked Sendable {
    /// The child's process id.
    public let pid: pid_t
    /// The child's process id, by the name Foundation's `Process` gives it.
    public var processIdentifier: pid_t { pid }
    private var reaped = false

    /// Why the process could not be started.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// How a process ended, with the CPU time it used (from `wait4`, the child's own `getrusage`).
    public struct Exit: Sendable {
        /// The exit status, or 128 + the signal that ended it.
        public var status: Int32
        /// The signal that ended the process, 0 when it exited by itself.
        public var signal: Int32
        /// User plus system CPU seconds of the process.
        public var cpuSeconds: Double
        /// The exit status, or the number of the signal that ended it (Foundation's `terminationStatus`).
        public var terminationStatus: Int32 { signal == 0 ? status : signal }
    }

    /// Starts `executable` with `arguments` (a name without a `/` is looked up in the test's PATH).
    /// - Parameters:
    ///   - inputPath: The file standard input reads; /dev/null when `nil`.
    ///   - outputPath: The file standard output is appended to (created when missing).
    ///   - errorPath: The file standard error is appended to; the output file when `nil`.
    ///   - directory: The child's working directory; the test's own when `nil`.
    ///   - environment: The child's whole environment; the test's own when `nil`.
    public init(
        _ executable: String, _ arguments: [String], inputPath: String? = nil, outputPath: String,
        errorPath: String? = nil, directory: String? = nil, environment: [String: String]? = nil
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
        let append = O_WRONLY | O_CREAT | O_APPEND
        posix_spawn_file_actions_addopen(&actions, 0, inputPath ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, append, 0o600)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, append, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if let directory {
            guard let addChdir = GNUSpawnActions.addChdir else {
                throw Failure(description: "no posix_spawn_file_actions_addchdir_np: cannot start in \(directory)")
            }
            _ = addChdir(&actions, directory)
        }
        // As Foundation's `Process` does: the child inherits no other descriptor (a listening socket or a pipe of
        // the test runner held open by a child would keep a port bound or a reader waiting).
        _ = GNUSpawnActions.addClosefrom?(&actions, 3)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var envp: [UnsafeMutablePointer<CChar>?] = (environment ?? [:]).map { strdup("\($0.key)=\($0.value)") }
        envp.append(nil)
        defer { for pointer in envp { free(pointer) } }
        var child: pid_t = 0
        let result = envp.withUnsafeMutableBufferPointer { variables in
            let environmentPointer = environment == nil ? environ : variables.baseAddress
            return executable.contains("/")
                ? posix_spawn(&child, executable, &actions, &attributes, argv, environmentPointer)
                : posix_spawnp(&child, executable, &actions, &attributes, argv, environmentPointer)
        }
        guard result == 0 else {
            throw Failure(description: "posix_spawn \(executable) failed: \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// Sends SIGTERM and waits for the process to end (SIGKILL after five seconds). Idempotent.
    public func stop() {
        guard !reaped else { return }
        kill(pid, SIGTERM)
        for _ in 0..<100 {
            if reap() != nil { return }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        _ = reap(blocking: true)
    }

    /// Waits up to `seconds` for the process to end by itself, then stops it.
    public func wait(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while !reaped, reap() == nil, Date() < deadline { usleep(20_000) }
        stop()
    }

    /// Awaits the end of the process without blocking a thread (it is polled), at most `seconds`, then stops
    /// it. Returns its status and CPU time, or `nil` when it had to be stopped or was already reaped.
    ///
    /// The process is looked at once more after the deadline: a test that the busy pool of threads did not
    /// resume for a while still gets the exit of a process that ended in time.
    public func exit(within seconds: Double) async -> Exit? {
        let deadline = Date().addingTimeInterval(seconds)
        while !reaped {
            if let exit = reap() { return exit }
            if Date() >= deadline { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        stop()
        return nil
    }

    /// Reaps the process if it has ended (or, `blocking`, when it ends): how it ended, `nil` while it runs.
    private func reap(blocking: Bool = false) -> Exit? {
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, blocking ? 0 : WNOHANG, &usage) == pid else { return nil }
        reaped = true
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return Exit(status: code, signal: signal, cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime))
    }

    deinit { stop() }
}

/// glibc's GNU file actions of `posix_spawn` (2.29 and 2.34), which Swift's Glibc module does not declare (they
/// need `_GNU_SOURCE`): looked up at run time, `nil` where the C library has none.
private enum GNUSpawnActions {
    typealias Actions = UnsafeMutablePointer<posix_spawn_file_actions_t>
    typealias AddChdir = @convention(c) (Actions, UnsafePointer<CChar>) -> Int32
    typealias AddClosefrom = @convention(c) (Actions, Int32) -> Int32

    static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")
    static let addClosefrom: AddClosefrom? = symbol("posix_spawn_file_actions_addclosefrom_np")

    private static func symbol<Function>(_ name: String) -> Function? {
        #if canImport(Darwin)
            let everywhere = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
        #else
            let everywhere: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
        #endif
        guard let address = dlsym(everywhere, name) else { return nil }
        return unsafeBitCast(address, to: Function.self)
    }
}
