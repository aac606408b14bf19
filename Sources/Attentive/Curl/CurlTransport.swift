import CLibCurl
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// ``HTTPTransport`` over libcurl's multi interface, driven by `curl_multi_poll` on a thread of its own
/// (``CurlEventLoop``), never on the Swift cooperative pool.
///
/// Why not `URLSession`: FoundationNetworking wraps the same libcurl, but its dispatch-source socket loop misses a
/// connection the server drops after reading a request (shutdown, close or RST): the request stalls until the
/// deadline while the loop re-arms `EPOLLOUT` thousands of times a second, a whole core (issue 11). It also
/// truncates timeouts to whole seconds and can deadlock when a task awaiting `data(for:)` is cancelled
/// (swift-corelibs-foundation #5412). Driving libcurl directly, a dropped or reset connection ends the transfer at
/// once (`CURLE_GOT_NOTHING`, `CURLE_RECV_ERROR`), a retryable connection failure.
///
/// What it keeps: TLS verification always on (peer and host name); HTTP/1.1 keep-alive with at most
/// `maxConnections` connections, per host and in all; one deadline for the whole exchange, to the millisecond
/// (`CURLOPT_TIMEOUT_MS`: connecting, sending, waiting and reading the body).
final class CurlTransport: HTTPTransport {
    private let loop: CurlEventLoop
    /// The bound of one whole exchange.
    let deadline: Duration

    /// - Parameters:
    ///   - requestTimeout: longest time for one whole exchange, from connecting to the last byte of the body.
    ///   - maxConnections: connections kept open and used at once, at most (per host and in all).
    init(requestTimeout: Duration, maxConnections: Int) {
        deadline = Duration.clampedSeconds(max(0.001, requestTimeout.inSeconds))
        loop = CurlEventLoop(maxConnections: max(1, maxConnections))
    }

    deinit {
        loop.stop()
    }

    /// CPU time of the transport's thread so far.
    var threadCPUTime: Duration { loop.threadCPUTime }

    /// Sends `request` and waits for its whole answer. Cancelling the calling task does not touch the request
    /// in flight: the job records every answer it gets (its SIGTERM stop lets requests in flight finish), and
    /// the deadline bounds the wait. (Nothing cancels a request: the transport has no cancellation path to keep.)
    func send(_ request: URLRequest) async -> Result<HTTPResponse, TransportFailure> {
        let transfer: CurlTransfer
        switch CurlTransfer.make(request, deadline: deadline) {
        case .success(let made): transfer = made
        case .failure(let failure): return .failure(failure)
        }
        return await withCheckedContinuation { continuation in
            start(transfer) { continuation.resume(returning: $0) }
        }
    }

    /// Hands `transfer` to the curl thread; `handler` runs there, once, when the transfer ends.
    func start(
        _ transfer: CurlTransfer, whenDone handler: @escaping @Sendable (Result<HTTPResponse, TransportFailure>) -> Void
    ) {
        transfer.onCompletion(handler)
        loop.submit(transfer)
    }
}
