// jwtgate entry point: hands the arguments to the command line.
#include "proxy/cli.hpp"

#include <exception>
#include <iostream>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
    try {
        std::vector<std::string_view> args(argv + 1, argv + argc);
        return jwtgate::proxy::run_cli(args);
    } catch (const std::exception& e) {
        std::cerr << "jwtgate: " << e.what() << '\n';
        return jwtgate::proxy::exit_runtime;
    }
}
