// kiln-run: the native tool. `kiln-run check FILE.kir` parses and verifies an IR file and prints
// its canonical form; `kiln-run optimize FILE.kir` prints it after the optimization passes.
// Errors name the line and exit with status 1.
#include <fstream>
#include <iostream>
#include <sstream>

#include "ir/ir.h"
#include "runtime/compile.h"

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "check" && std::string(argv[1]) != "optimize")) {
    std::cerr << "usage: kiln-run check|optimize FILE.kir\n";
    return 2;
  }
  std::ifstream f(argv[2]);
  if (!f) {
    std::cerr << "kiln-run: cannot open " << argv[2] << "\n";
    return 2;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    kiln::rt::CompileOptions options;
    options.optimize = std::string(argv[1]) == "optimize";
    std::cout << kiln::ir::print(kiln::rt::compile_graph(ss.str(), options));
  } catch (const kiln::Error& e) {
    std::cerr << argv[2] << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
