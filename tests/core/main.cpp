// Shared entry point of the core Boost.Test binaries.
#define BOOST_TEST_MODULE jwtgate_core_tests
#include <boost/test/unit_test.hpp>
