public import GovBusProcesses

/// Tests name `ChildProcess` through this module, as they did before it moved to GovBusProcesses.
public typealias ChildProcess = GovBusProcesses.ChildProcess
