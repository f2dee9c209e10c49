import Foundation
import PackagePlugin

/// Compiles a target's `Resources` files (YAML, Mustache templates, CSS, JavaScript) into a Swift file of string constants, so the binary needs no resource
/// bundle beside it (a lone copy of `ember`, as in a container image, serves every route). The target excludes its
/// `Resources` folder, so the files are found here rather than among its sources.
@main
struct EmbedResources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let folder = target.directoryURL.appending(path: "Resources")
        let inputs = ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
            .filter { ["yaml", "mustache", "css", "js"].contains($0.pathExtension) }.sorted { $0.path < $1.path }
        guard !inputs.isEmpty else { return [] }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedResources.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.map(\.lastPathComponent).joined(separator: ", ")) in \(target.name)",
                executable: try context.tool(named: "embed-resources").url,
                arguments: [output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
