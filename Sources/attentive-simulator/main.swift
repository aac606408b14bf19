// attentive-simulator: serves the simulated Attentive API until SIGTERM/SIGINT. See `--help`.
import AttentiveSimulator
import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func writeLine(_ text: String, to handle: FileHandle) {
    handle.write(Data((text + "\n").utf8))
}

let options: CommandLineOptions
do {
    options = try CommandLineOptions.parse(
        Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
} catch {
    writeLine("attentive-simulator: \(error)", to: .standardError)
    writeLine(CommandLineOptions.usage, to: .standardError)
    exit(2)
}
if options.showHelp {
    writeLine(CommandLineOptions.usage, to: .standardOutput)
    exit(0)
}

signal(SIGPIPE, SIG_IGN)
let simulator = AttentiveSimulator(configuration: options.configuration)
do {
    try simulator.start()
} catch {
    writeLine("\(error)", to: .standardError)
    exit(1)
}

if let portFile = options.portFile {
    do {
        try Data("\(simulator.port)\n".utf8).write(to: URL(fileURLWithPath: portFile), options: .atomic)
    } catch {
        writeLine("attentive-simulator: cannot write port file \(portFile): \(error)", to: .standardError)
        simulator.stop()
        exit(1)
    }
}
writeLine("attentive-simulator listening on \(simulator.baseURL.absoluteString)", to: .standardOutput)

let dumpFile = options.dumpFile
func shutDown() {
    simulator.stop()
    var status: Int32 = 0
    if let dumpFile {
        do {
            try simulator.acceptedJSON().write(to: URL(fileURLWithPath: dumpFile), options: .atomic)
        } catch {
            writeLine("attentive-simulator: cannot write dump file \(dumpFile): \(error)", to: .standardError)
            status = 1
        }
    }
    exit(status)
}

var signalSources: [any DispatchSourceSignal] = []
for signalNumber in [SIGTERM, SIGINT] {
    signal(signalNumber, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
    source.setEventHandler { shutDown() }
    source.resume()
    signalSources.append(source)
}
dispatchMain()
