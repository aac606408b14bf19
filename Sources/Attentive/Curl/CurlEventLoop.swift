import CLibCurl
import Foundation
import Synchronization

/// One libcurl multi handle and the thread that drives it: transfers arrive through a locked inbox and
/// `curl_multi_wakeup`, the thread adds them, runs `curl_multi_perform`, completes what finished and sleeps in
/// `curl_multi_poll` until a socket is ready, a curl timer is due or the inbox wakes it. The multi handle and
/// every easy handle in it are touched only by that thread; the inbox is the only shared state.
final class CurlEventLoop: @unchecked Sendable {
    private struct Inbox {
        var added: [CurlTransfer] = []
        var stopping = false
        /// Set by the loop thread just before it frees the multi handle: from then on nobody may wake it.
        var closed = false
    }

    /// libcurl's global state, set up once before the first handle (FoundationNetworking may have done it too;
    /// the calls are reference-counted).
    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    /// Longest sleep with nothing to do; `curl_multi_poll` returns earlier for sockets, timers and wake-ups.
    private static let idlePollMilliseconds: Int32 = 1_000

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    /// The loop thread's CPU clock, once it runs.
    private let threadClock = Mutex<clockid_t?>(nil)
    /// Transfers in the multi handle, by easy handle. Loop thread only.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init(maxConnections: Int) {
        Self.globalInit
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        _ = rs_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnections)
        _ = rs_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections)
        _ = rs_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
        let thread = Thread { [self] in run() }
        thread.name = "referral-sync curl"
        thread.start()
    }

    /// Hands `transfer` to the loop thread.
    func submit(_ transfer: CurlTransfer) {
        let accepted = wake { $0.added.append(transfer) }
        if !accepted { transfer.complete(.failure(.connection("the HTTP transport has stopped"))) }
    }

    /// Ends the loop thread once it has failed whatever is still in it. For the owner's `deinit`.
    func stop() {
        _ = wake { $0.stopping = true }
    }

    /// CPU time the loop thread has used so far: a loop that spins instead of sleeping in `curl_multi_poll`
    /// shows here (tests compare it across runs).
    var threadCPUTime: Duration {
        guard let clock = threadClock.withLock({ $0 }) else { return .zero }
        var time = timespec()
        guard clock_gettime(clock, &time) == 0 else { return .zero }
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    /// Changes the inbox and wakes the loop thread, both under the lock, so the multi handle cannot be freed
    /// between the two. False once the loop has ended.
    private func wake(_ change: (inout Inbox) -> Void) -> Bool {
        inbox.withLock { inbox in
            guard !inbox.closed else { return false }
            change(&inbox)
            _ = curl_multi_wakeup(multi)
            return true
        }
    }

    private func run() {
        var clock = clockid_t()
        if pthread_getcpuclockid(pthread_self(), &clock) == 0 { threadClock.withLock { $0 = clock } }
        while true {
            let mail = inbox.withLock { inbox -> Inbox in
                defer { inbox.added.removeAll() }
                return inbox
            }
            for transfer in mail.added { add(transfer) }
            if mail.stopping { break }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            completeFinished()
            _ = curl_multi_poll(multi, nil, 0, Self.idlePollMilliseconds, nil)
        }
        for transfer in active.values {
            _ = curl_multi_remove_handle(multi, transfer.easy)
            transfer.releaseHandle()
            transfer.complete(.failure(.connection("the HTTP transport has stopped")))
        }
        active.removeAll()
        let late = inbox.withLock { inbox -> [CurlTransfer] in
            inbox.closed = true
            return inbox.added
        }
        for transfer in late { transfer.complete(.failure(.connection("the HTTP transport has stopped"))) }
        _ = curl_multi_cleanup(multi)
    }

    private func add(_ transfer: CurlTransfer) {
        let code = curl_multi_add_handle(multi, transfer.easy)
        guard code == CURLM_OK else {
            let reason = String(cString: curl_multi_strerror(code))
            transfer.releaseHandle()
            transfer.complete(.failure(.connection("could not start the request: \(reason)")))
            return
        }
        active[transfer.easy] = transfer
    }

    private func completeFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            // The message is freed by removing its handle: read the result first.
            let code = rs_multi_message_result(message)
            _ = curl_multi_remove_handle(multi, easy)
            guard let transfer = active.removeValue(forKey: easy) else { continue }
            let result = transfer.result(of: code)
            transfer.releaseHandle()
            transfer.complete(result)
        }
    }
}
