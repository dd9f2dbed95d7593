// kiln-run: the native tool. `kiln-run check FILE.kir` parses and verifies an IR file and prints
// its canonical form; `kiln-run optimize FILE.kir` prints it after the optimization passes.
// Errors name the line and exit with status 1.
#include <fstream>
#include <iostream>
#include <sstream>

#include "ir/ir.h"
#include "passes/passes.h"

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
    kiln::ir::Graph g = kiln::ir::parse(ss.str());
    kiln::ir::verify(g);
    if (std::string(argv[1]) == "optimize") kiln::passes::optimize(g);
    std::cout << kiln::ir::print(g);
  } catch (const kiln::Error& e) {
    std::cerr << argv[2] << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
