import Foundation
import ReferralSync

// Thin executable: parse, run, exit. Everything else lives in the ReferralSync library.
let stopSignal = StopSignal()
stopSignal.install()
let status = await ReferralSyncCommand.main(
    arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment,
    stopSignal: stopSignal)
exit(status.rawValue)
