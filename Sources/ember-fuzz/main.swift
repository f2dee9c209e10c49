import EmberFuzz
import Foundation

#if canImport(Glibc)
import Glibc
#endif

// ember-fuzz TARGET [libFuzzer options] [CORPUS_DIR…]
//
// Built with `-sanitize=fuzzer,address` (scripts/fuzz), libFuzzer drives TARGET with coverage-guided inputs. In a
// plain build there is no libFuzzer, and it only replays the files and folders it is given (the committed corpus).

typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
typealias Driver =
    @convention(c) (
        UnsafeMutablePointer<CInt>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>, Callback
    ) -> CInt

let arguments = CommandLine.arguments
guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    FileHandle.standardError.write(Data("usage: ember-fuzz TARGET [libFuzzer options] [CORPUS…]; targets: \(names)\n".utf8))
    exit(64)
}
let selected = target

let callback: Callback = { data, size in
    selected.run(data.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

if let symbol = dlsym(dlopen(nil, RTLD_NOW), "LLVMFuzzerRunDriver") {  // the program itself
    let driver = unsafeBitCast(symbol, to: Driver.self)
    var rest = [strdup(arguments[0])] + arguments.dropFirst(2).map { strdup($0) } + [nil]
    var count = CInt(rest.count - 1)
    let status = rest.withUnsafeMutableBufferPointer { buffer in
        var pointer = buffer.baseAddress!
        return driver(&count, &pointer, callback)
    }
    exit(status)
}

var replayed = 0
for path in arguments.dropFirst(2) where !path.hasPrefix("-") {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { continue }
    let files = isFolder.boolValue ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).map { "\(path)/\($0)" } : [path]
    for file in files.sorted() {
        guard let data = FileManager.default.contents(atPath: file) else { continue }
        target.run(data)
        replayed += 1
    }
}
print("built without libFuzzer (-sanitize=fuzzer): replayed \(replayed) inputs of \(target.rawValue), no property violated")
