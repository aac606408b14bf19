import Foundation
public import ReferralSyncJob
import Synchronization

/// The process's standard output, written with `write(2)` so a failure (a full disk behind `> file`, a closed
/// pipe) is noticed instead of ending the process, and remembered: the command then ends with 74 (README "Exit
/// statuses"), never 0 with half a report.
final class StandardOutput: Sendable {
    private let failure = Mutex<String?>(nil)

    /// Writes `text` whole, or remembers why it could not.
    func write(_ text: String) {
        guard failure.withLock({ $0 == nil }) else { return }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Foundation.write(1, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                failure.withLock { $0 = $0 ?? reason }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Why standard output could not be written, if it could not.
    var failed: String? { failure.withLock { $0 } }
}

extension ReferralSyncCommand {
    /// Runs the command line as the `referral-sync` process does: standard output through ``StandardOutput``, and
    /// exit 74 when it could not be written (unless the command already ends with a status that says more).
    public static func mainProcess(
        arguments: [String], environment: [String: String], stopSignal: StopSignal
    ) async -> ExitStatus {
        let standardOutput = StandardOutput()
        let status = await main(
            arguments: arguments, environment: environment, stopSignal: stopSignal,
            output: { standardOutput.write($0) })
        guard let reason = standardOutput.failed, [.success, .needsAttention].contains(status) else { return status }
        let failure = JobError(
            .ioError, "standard output could not be written: \(reason)",
            remedy: "Free space where the output goes, or write it elsewhere; nothing else was changed by it.")
        printInstruction(failure.status, failure.description)
        return failure.status
    }
}
