/* test_ledger.c - the byte ledger: names, add, reset, get, and the
 * receive part of every counter (count, get_dir, add and reset carry it). */
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

static void ledger_count_splits_by_direction(void **state)
{
	struct rl_ledger l = {0};

	(void)state;
	assert_string_equal(rl_dir_name(RL_DIR_TX), "tx");
	assert_string_equal(rl_dir_name(RL_DIR_RX), "rx");
	/* one sent packet of 142 bytes, copy mode, and the same received */
	rl_ledger_count(&l, RL_LEDGER_HEADERS, 42, RL_DIR_TX);
	rl_ledger_count(&l, RL_LEDGER_COPIED, 100, RL_DIR_TX);
	rl_ledger_count(&l, RL_LEDGER_KERNEL_COPIED, 142, RL_DIR_TX);
	rl_ledger_count(&l, RL_LEDGER_KERNEL_COPIED, 142, RL_DIR_RX);
	rl_ledger_count(&l, RL_LEDGER_COPIED, 100, RL_DIR_RX); /* payload read out */
	assert_int_equal(l.headers, 42);
	assert_int_equal(l.copied, 200);
	assert_int_equal(l.kernel_copied, 284);
	assert_int_equal(rl_ledger_get_dir(&l, RL_LEDGER_HEADERS, RL_DIR_TX), 42);
	assert_int_equal(rl_ledger_get_dir(&l, RL_LEDGER_HEADERS, RL_DIR_RX), 0);
	assert_int_equal(rl_ledger_get_dir(&l, RL_LEDGER_COPIED, RL_DIR_TX), 100);
	assert_int_equal(rl_ledger_get_dir(&l, RL_LEDGER_COPIED, RL_DIR_RX), 100);
	assert_int_equal(rl_ledger_get_dir(&l, RL_LEDGER_KERNEL_COPIED, RL_DIR_TX), 142);
	assert_int_equal(rl_ledger_get_dir(&l, RL_LEDGER_KERNEL_COPIED, RL_DIR_RX), 142);
	assert_int_equal(l.rx[RL_LEDGER_KERNEL_COPIED], 142);
	for (int f = 0; f < RL_LEDGER_FIELDS; f++)
		assert_int_equal(rl_ledger_get_dir(&l, (enum rl_ledger_field)f, RL_DIR_TX) +
		                     rl_ledger_get_dir(&l, (enum rl_ledger_field)f, RL_DIR_RX),
		                 rl_ledger_get(&l, (enum rl_ledger_field)f));
	/* not a field: nothing counted, nothing read */
	rl_ledger_count(&l, RL_LEDGER_FIELDS, 5, RL_DIR_RX);
	assert_int_equal(rl_ledger_get_dir(&l, RL_LEDGER_FIELDS, RL_DIR_RX), 0);
	assert_int_equal(l.copied + l.referenced + l.headers + l.kernel_copied +
	                     l.driver_copied + l.touched,
	                 526);
	/* a total set without its part (an older writer) counts as sent, and a
	 * part larger than its total is cut to it */
	l.touched = 7;
	assert_int_equal(rl_ledger_get_dir(&l, RL_LEDGER_TOUCHED, RL_DIR_TX), 7);
	l.rx[RL_LEDGER_REFERENCED] = 9;
	assert_int_equal(rl_ledger_get_dir(&l, RL_LEDGER_REFERENCED, RL_DIR_RX), 0);
}

static void ledger_add_and_reset_carry_the_receive_part(void **state)
{
	struct rl_ledger a = {0}, b = {0};

	(void)state;
	rl_ledger_count(&a, RL_LEDGER_TOUCHED, 10, RL_DIR_RX);
	rl_ledger_count(&a, RL_LEDGER_TOUCHED, 3, RL_DIR_TX);
	rl_ledger_count(&b, RL_LEDGER_TOUCHED, 5, RL_DIR_RX);
	rl_ledger_count(&b, RL_LEDGER_DRIVER_COPIED, 64, RL_DIR_RX);
	rl_ledger_add(&b, &a);
	assert_int_equal(b.touched, 18);
	assert_int_equal(rl_ledger_get_dir(&b, RL_LEDGER_TOUCHED, RL_DIR_RX), 15);
	assert_int_equal(rl_ledger_get_dir(&b, RL_LEDGER_TOUCHED, RL_DIR_TX), 3);
	assert_int_equal(rl_ledger_get_dir(&b, RL_LEDGER_DRIVER_COPIED, RL_DIR_RX), 64);
	assert_int_equal(a.rx[RL_LEDGER_TOUCHED], 10); /* src unchanged */
	rl_ledger_reset(&b);
	for (int f = 0; f < RL_LEDGER_FIELDS; f++) {
		assert_int_equal(b.rx[f], 0);
		assert_int_equal(rl_ledger_get(&b, (enum rl_ledger_field)f), 0);
	}
}

static const struct CMUnitTest ledger_tests[] = {
    cmocka_unit_test(ledger_adds_and_names),
    cmocka_unit_test(ledger_get_reads_each_field),
    cmocka_unit_test(ledger_reset_keeps_how_and_why),
    cmocka_unit_test(ledger_how_names),
    cmocka_unit_test(ledger_count_splits_by_direction),
    cmocka_unit_test(ledger_add_and_reset_carry_the_receive_part),
};

RL_UNIT_MAIN(ledger_tests)
