// townhallctl: see townhallctl.h, or run `townhallctl --help`.
#include <iostream>
#include <string>
#include <vector>

#include "clients/cpp/townhallctl/townhallctl.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return townhall::ctl::RunTownhallctl(args, std::cin, std::cout, std::cerr);
}
