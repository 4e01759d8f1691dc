// Tests for strict unpadded base64url (RFC 4648 sections 5 and 10, RFC 7515 section 2).
#include "core/base64url.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>

namespace bdata = boost::unit_test::data;
using jwtgate::core::base64url_decode;
using jwtgate::core::base64url_encode;

namespace {

struct vector_row {
    const char* name;
    std::string_view decoded;
    std::string_view encoded;
};
std::ostream& operator<<(std::ostream& os, const vector_row& r) {
    return os << r.name;
}

// RFC 4648 section 10 test vectors with the padding removed, plus bytes that map to the
// two url-alphabet characters ('-' = 62, '_' = 63) and a NUL-containing input.
const vector_row vectors[] = {
    {"empty", "", ""},
    {"f", "f", "Zg"},
    {"fo", "fo", "Zm8"},
    {"foo", "foo", "Zm9v"},
    {"foob", "foob", "Zm9vYg"},
    {"fooba", "fooba", "Zm9vYmE"},
    {"foobar", "foobar", "Zm9vYmFy"},
    {"url_alphabet_62_63", "\xfb\xff\xbf", "-_-_"},
    {"all_ones", "\xff\xff\xff", "____"},
    {"all_zero_bytes", std::string_view("\0\0\0\0", 4), "AAAAAA"},
    {"jws_header", R"({"alg":"HS256"})", "eyJhbGciOiJIUzI1NiJ9"},
};

} // namespace

BOOST_AUTO_TEST_SUITE(base64url)

BOOST_DATA_TEST_CASE(decodes_rfc4648_vectors, bdata::make(vectors), row) {
    const auto out = base64url_decode(row.encoded);
    BOOST_REQUIRE(out.has_value());
    BOOST_TEST(*out == std::string(row.decoded));
}

BOOST_DATA_TEST_CASE(encodes_rfc4648_vectors, bdata::make(vectors), row) {
    BOOST_TEST(base64url_encode(row.decoded) == std::string(row.encoded));
}

namespace {

struct reject_row {
    const char* name;
    std::string_view input;
};
std::ostream& operator<<(std::ostream& os, const reject_row& r) {
    return os << r.name;
}

const reject_row rejected[] = {
    {"padding_one", "Zm8="},
    {"padding_two", "Zg=="},
    {"padding_full_group", "Zm9vYg=="},
    {"padding_inside", "Zg==Zm9v"},
    {"lone_padding", "===="},
    {"plus_std_alphabet", "+_-_"},
    {"slash_std_alphabet", "-/-_"},
    {"space", "Zm9v Zm9v"},
    {"leading_space", " Zm9v"},
    {"trailing_newline", "Zm9v\n"},
    {"tab", "Zm\t9v"},
    {"crlf", "Zm9v\r\nZm9v"},
    {"dot", "Zm9v.Zm9v"},
    {"nul_byte", std::string_view("Zm\0v", 4)},
    {"high_byte", "Zm9\xc3"},
    {"non_ascii_utf8", "Zm\xc3\xa9v"},
    {"len_1", "Z"},
    {"len_5", "Zm9vY"},
    {"len_9", "Zm9vYmFyZ"},
    // Non-zero trailing bits: "Zh" decodes to 'f' like "Zg" but sets an unused bit.
    {"trailing_bits_2char_low", "Zh"},
    {"trailing_bits_2char_high", "Zv"},
    {"trailing_bits_3char", "Zm9"},
    {"trailing_bits_3char_low", "Zm-"},
    {"trailing_bits_after_full", "Zm9vYh"},
    {"bad_char_in_tail_2", "Z*"},
    {"bad_char_in_tail_3", "Zm*"},
    {"bad_char_last_in_group", "Zm9*"},
};

} // namespace

BOOST_DATA_TEST_CASE(rejects_non_canonical_input, bdata::make(rejected), row) {
    BOOST_TEST(!base64url_decode(row.input).has_value());
}

BOOST_AUTO_TEST_CASE(every_byte_outside_alphabet_is_rejected_in_every_position) {
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int c = 0; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        const bool valid = alphabet.find(ch) != std::string::npos;
        for (std::size_t pos = 0; pos < 4; ++pos) {
            std::string in = "AAAA";
            in[pos] = ch;
            BOOST_TEST(base64url_decode(in).has_value() == valid,
                       "byte " << c << " at position " << pos);
        }
    }
}

BOOST_AUTO_TEST_CASE(round_trips_every_length_and_byte) {
    std::string data;
    for (std::size_t len = 0; len <= 300; ++len) {
        const auto enc = base64url_encode(data);
        BOOST_TEST(enc.size() == (len * 4 + 2) / 3);
        BOOST_TEST(enc.find('=') == std::string::npos);
        const auto dec = base64url_decode(enc);
        BOOST_REQUIRE(dec.has_value());
        BOOST_TEST(*dec == data);
        data.push_back(static_cast<char>((len * 167 + 13) & 0xFF));
    }
}

BOOST_AUTO_TEST_CASE(decode_then_encode_is_identity_on_accepted_inputs) {
    // Every 2- and 3-character input that decodes must re-encode to itself (canonical).
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::size_t accepted2 = 0;
    for (char a : alphabet) {
        for (char b : alphabet) {
            const std::string in{a, b};
            if (const auto dec = base64url_decode(in)) {
                ++accepted2;
                BOOST_TEST(base64url_encode(*dec) == in);
            }
        }
    }
    // 64 first characters x 4 second characters with zero low bits = 256 bytes.
    BOOST_TEST(accepted2 == 256u);
}

BOOST_AUTO_TEST_SUITE_END()
