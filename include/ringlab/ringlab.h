/* ringlab.h - everything libringlab offers, in one include. */
#ifndef RINGLAB_H
#define RINGLAB_H

#define RINGLAB_VERSION "0.1.0"

#include "checksum.h"
#include "engine.h"
#include "err.h"
#include "ledger.h"
#include "packet.h"
#include "region.h"
#include "reader.h"
#include "ring.h"
#include "segment.h"
#include "tcp.h"

#endif
