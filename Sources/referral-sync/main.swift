import Foundation
import ReferralSyncCLI
import ReferralSyncJob

// Thin executable: parse, run, exit. The commands live in ReferralSyncCLI, the job in ReferralSyncJob.
let stopSignal = StopSignal()
stopSignal.install()
let status = await ReferralSyncCommand.mainProcess(
    arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment,
    stopSignal: stopSignal)
exit(status.rawValue)
