/* test_ledger.c - the byte ledger: names, add, reset, get. */
#include "ringlab/ledger.h"
#include "unit.h"

static void ledger_adds_and_names(void **state)
{
	static const char *const names[] = {"copied",        "referenced",    "headers",
	                                    "kernel_copied", "driver_copied", "touched"};
	struct rl_ledger a = {.copied = 1,
	                      .referenced = 2,
	                      .headers = 3,
	                      .kernel_copied = 4,
	                      .driver_copied = 5,
	                      .touched = 6};
	struct rl_ledger b = {.copied = 10,
	                      .referenced = 20,
	                      .headers = 30,
	                      .kernel_copied = 40,
	                      .driver_copied = 50,
	                      .touched = 60,
	                      .kernel_how = RL_HOW_DERIVED};

	(void)state;
	strcpy(b.kernel_why, "copy mode");
	for (int f = 0; f < RL_LEDGER_FIELDS; f++)
		assert_string_equal(rl_ledger_field_name((enum rl_ledger_field)f),
		                    names[f]);
	assert_string_equal(rl_ledger_field_name(RL_LEDGER_FIELDS), "?");

	rl_ledger_add(&b, &a);
	for (int f = 0; f < RL_LEDGER_FIELDS; f++)
		assert_int_equal(rl_ledger_get(&b, (enum rl_ledger_field)f),
		                 11u * (f + 1));
	/* the how/why of dst are kept */
	assert_int_equal(b.kernel_how, RL_HOW_DERIVED);
	assert_string_equal(b.kernel_why, "copy mode");
	/* src is unchanged */
	for (int f = 0; f < RL_LEDGER_FIELDS; f++)
		assert_int_equal(rl_ledger_get(&a, (enum rl_ledger_field)f), f + 1);
}

static void ledger_get_reads_each_field(void **state)
{
	struct rl_ledger l = {0};

	(void)state;
	l.copied = 100;
	assert_int_equal(rl_ledger_get(&l, RL_LEDGER_COPIED), 100);
	l.referenced = 200;
	assert_int_equal(rl_ledger_get(&l, RL_LEDGER_REFERENCED), 200);
	l.headers = 300;
	assert_int_equal(rl_ledger_get(&l, RL_LEDGER_HEADERS), 300);
	l.kernel_copied = 400;
	assert_int_equal(rl_ledger_get(&l, RL_LEDGER_KERNEL_COPIED), 400);
	l.driver_copied = 500;
	assert_int_equal(rl_ledger_get(&l, RL_LEDGER_DRIVER_COPIED), 500);
	l.touched = UINT64_MAX;
	assert_true(rl_ledger_get(&l, RL_LEDGER_TOUCHED) == UINT64_MAX);
	assert_int_equal(rl_ledger_get(&l, RL_LEDGER_FIELDS), 0);
}

static void ledger_reset_keeps_how_and_why(void **state)
{
	struct rl_ledger l = {.copied = 1,
	                      .referenced = 2,
	                      .headers = 3,
	                      .kernel_copied = 4,
	                      .driver_copied = 5,
	                      .touched = 6,
	                      .kernel_how = RL_HOW_MEASURED,
	                      .driver_how = RL_HOW_DERIVED};

	(void)state;
	strcpy(l.kernel_why, "counted in the copy loop");
	strcpy(l.driver_why, "the PMD copies in this mode");
	rl_ledger_reset(&l);
	for (int f = 0; f < RL_LEDGER_FIELDS; f++)
		assert_int_equal(rl_ledger_get(&l, (enum rl_ledger_field)f), 0);
	assert_int_equal(l.kernel_how, RL_HOW_MEASURED);
	assert_int_equal(l.driver_how, RL_HOW_DERIVED);
	assert_string_equal(l.kernel_why, "counted in the copy loop");
	assert_string_equal(l.driver_why, "the PMD copies in this mode");
}

static void ledger_how_names(void **state)
{
	(void)state;
	assert_string_equal(rl_how_name(RL_HOW_NONE), "none");
	assert_string_equal(rl_how_name(RL_HOW_MEASURED), "measured");
	assert_string_equal(rl_how_name(RL_HOW_DERIVED), "derived");
	assert_string_equal(rl_how_name((enum rl_how)7), "?");
}

static const struct CMUnitTest ledger_tests[] = {
    cmocka_unit_test(ledger_adds_and_names),
    cmocka_unit_test(ledger_get_reads_each_field),
    cmocka_unit_test(ledger_reset_keeps_how_and_why),
    cmocka_unit_test(ledger_how_names),
};

RL_UNIT_MAIN(ledger_tests)
