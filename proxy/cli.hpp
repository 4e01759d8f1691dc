// The command line: argument parsing and the commands that do not serve traffic.
#pragma once

#include <span>
#include <string_view>

namespace jwtgate::proxy {

// Exit codes (SPEC "Command line"); verify-token adds 3 for "token not valid".
inline constexpr int exit_ok = 0;
inline constexpr int exit_config = 1;
inline constexpr int exit_runtime = 2;
inline constexpr int exit_invalid_token = 3;

// Runs the command line `args` (without argv[0]) and returns the process exit code.
int run_cli(std::span<const std::string_view> args);

} // namespace jwtgate::proxy
