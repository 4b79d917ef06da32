/*
 * model_check.c: validate a model block that comes from outside.
 *
 * A model block made by fs_model_fit is trusted by generation: offsets are
 * followed and class numbers index arrays without checks.  A block read from
 * a model value (serial.c) passed its checksum, but a crafted value can pass
 * that too; fs_model_validate checks, before any use, every offset and size
 * and every index generation follows: arrays lie inside the block and are
 * aligned, tree nodes point to nodes of their tree and walks of the stated
 * depth end on a leaf, drawn classes are classes of their column, split sets
 * and rule bitsets cover every class their column can take, the text models'
 * tables are consistent and their leaf trees read only classes a row holds.
 * Anything else is ERRCODE_DATA_CORRUPTED, naming the column.
 */
#include "postgres.h"

#include "fairsynth.h"
#include "model.h"
#include "tree.h"
#include "serial.h"
#include "text.h"

/* What validation needs to know while it walks one block. */
typedef struct FsCheck
{
	const FsModel *m;
	Size		size;
	const char *what;			/* the part being checked, for messages */
	int			group_nclass;	/* classes of a row's group slot in the
								 * tree being checked: the combinations, or
								 * a text model's groups */
} FsCheck;

static void fs_check_fail(FsCheck *ck, const char *detail) pg_attribute_noreturn();
static void fs_check_array(FsCheck *ck, FsOff off, int64 count, Size elem,
						   const char *name);
static int	fs_check_nclass_of(FsCheck *ck, int col);
static void fs_check_tree(FsCheck *ck, const FsTree *tree, int nclass,
						  int nstarts);
static void fs_check_text(FsCheck *ck, int c);
static void fs_check_text_tree(FsCheck *ck, const FsTextModel *tm);

/* ---------------------------------------------------------------------------
 * Primitives
 * ---------------------------------------------------------------------------
 */

static void
fs_check_fail(FsCheck *ck, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("fairsynth model value is corrupt: %s: %s", ck->what, detail),
			 errhint("Fit the model again with fairsynth_fit().")));
}

/* count elements of elem bytes at off lie inside the block, 8-aligned. */
static void
fs_check_array(FsCheck *ck, FsOff off, int64 count, Size elem, const char *name)
{
	if (count < 0 || off % MAXIMUM_ALIGNOF != 0 ||
		(uint64) off + (uint64) count * elem > (uint64) ck->size ||
		(uint64) count * elem > (uint64) ck->size)
		fs_check_fail(ck, psprintf("%s (%lld entries at offset %u) lies outside the %zu-byte block",
								   name, (long long) count, off, ck->size));
}

/* The classes a row's slot col can hold (the group slot: combinations). */
static int
fs_check_nclass_of(FsCheck *ck, int col)
{
	const FsModelColumn *mcs = FS_AT(ck->m, ck->m->cols, FsModelColumn);

	if (col == FS_GROUP_COL(ck->m->ncols))
		return Max(ck->group_nclass, 1);
	return Max(mcs[col].nclass, 1);
}

/* ---------------------------------------------------------------------------
 * Trees
 * ---------------------------------------------------------------------------
 */

/*
 * A tree whose target has nclass classes: nodes, split sets, distributions,
 * alias tables, rules, and the starts of its nstarts groups (0: it has none).
 */
static void
fs_check_tree(FsCheck *ck, const FsTree *tree, int nclass, int nstarts)
{
	const char *base = (const char *) ck->m;
	const FsNode *nodes;
	int32	   *height;
	int			ncols = ck->m->ncols;

	if (tree->nnodes < 1 || tree->nclass < 1 || tree->nclass > nclass)
		fs_check_fail(ck, "its tree has no nodes or classes the column does not have");
	fs_check_array(ck, tree->nodes, tree->nnodes, sizeof(FsNode), "tree nodes");
	nodes = (const FsNode *) (base + tree->nodes);
	height = palloc0(sizeof(int32) * tree->nnodes);
	/* children come after their parent, so heights fill from the end */
	for (int id = tree->nnodes - 1; id >= 0; id--)
	{
		const FsNode *node = &nodes[id];
		bool		leaf = node->child[0] == id;

		if (leaf ? node->child[1] != id :
			(node->child[0] <= id || node->child[0] >= tree->nnodes ||
			 node->child[1] <= id || node->child[1] >= tree->nnodes))
			fs_check_fail(ck, psprintf("tree node %d has children outside its tree", id));
		if (node->test < 0 || node->test > FS_GROUP_COL(ncols))
			fs_check_fail(ck, psprintf("tree node %d tests a column that does not exist", id));
		if (node->goes_left != 0)
			fs_check_array(ck, node->goes_left,
						   (fs_check_nclass_of(ck, node->test) + 63) / 64,
						   sizeof(uint64), "a split set");
		if (node->ndist < 0 || node->ndist > tree->nclass ||
			((leaf || id == 0) && node->ndist < 1))
			fs_check_fail(ck, psprintf("tree node %d has an impossible distribution", id));
		fs_check_array(ck, node->dist, node->ndist, sizeof(FsDraw), "a distribution");
		for (int j = 0; j < node->ndist; j++)
		{
			const FsDraw *d = (const FsDraw *) (base + node->dist) + j;

			if (d->cls < 0 || d->cls >= tree->nclass)
				fs_check_fail(ck, psprintf("tree node %d draws a class the column does not have", id));
		}
		if (leaf)
		{
			fs_check_array(ck, node->alias, node->ndist, sizeof(FsAlias), "an alias table");
			for (int j = 0; j < node->ndist; j++)
			{
				const FsAlias *a = (const FsAlias *) (base + node->alias) + j;

				if (a->cls < 0 || a->cls >= tree->nclass ||
					a->alias < 0 || a->alias >= tree->nclass)
					fs_check_fail(ck, psprintf("tree leaf %d draws a class the column does not have", id));
			}
		}
		else
			height[id] = 1 + Max(height[node->child[0]], height[node->child[1]]);
	}
	if (tree->depth < 0 || tree->depth > tree->nnodes)
		fs_check_fail(ck, "its tree has an impossible depth");
	if (tree->starts != 0)
	{
		const FsStart *starts = (const FsStart *) (base + tree->starts);

		if (nstarts == 0)
			fs_check_fail(ck, "a tree without combinations has combination starts");
		fs_check_array(ck, tree->starts, nstarts, sizeof(FsStart),
					   "combination starts");
		for (int k = 0; k < nstarts; k++)
			if (starts[k].node < 0 || starts[k].node >= tree->nnodes ||
				starts[k].depth < height[starts[k].node] || starts[k].depth > tree->nnodes)
				fs_check_fail(ck, psprintf("combination %d starts outside its tree", k));
		for (int k = 0; k < nstarts; k++)
			if (starts[k].ratio != 0)
			{
				const float4 *ratio = (const float4 *) (base + starts[k].ratio);

				fs_check_array(ck, starts[k].ratio, tree->nclass, sizeof(float4),
							   "combination class weights");
				for (int c = 0; c < tree->nclass; c++)
					if (!(ratio[c] >= 0 && ratio[c] <= 1))
						fs_check_fail(ck, psprintf("combination %d has a class weight outside [0, 1]", k));
			}
	}
	else if (tree->depth < height[0])
		fs_check_fail(ck, "walks of its tree's depth end above a leaf");
	if (tree->nrules < 0)
		fs_check_fail(ck, "its tree has a negative number of rules");
	if (tree->nrules > 0)
	{
		fs_check_array(ck, tree->rules, tree->nrules, sizeof(FsRule), "rules");
		for (int i = 0; i < tree->nrules; i++)
		{
			const FsRule *rule = (const FsRule *) (base + tree->rules) + i;

			if (rule->pred < 0 || rule->pred > FS_GROUP_COL(ncols) ||
				rule->npred < fs_check_nclass_of(ck, rule->pred))
				fs_check_fail(ck, psprintf("rule %d names a column that does not exist", i));
			fs_check_array(ck, rule->never,
						   ((int64) rule->npred * tree->nclass + 7) / 8, 1, "a rule's bitset");
			fs_check_array(ck, rule->rows, rule->npred, sizeof(int32), "a rule's row counts");
			for (int b = 0; b < rule->npred; b++)
				if (((const int32 *) (base + rule->rows))[b] < 0)
					fs_check_fail(ck, psprintf("rule %d has a negative row count", i));
		}
	}
	pfree(height);
}

/* ---------------------------------------------------------------------------
 * Free-text models
 * ---------------------------------------------------------------------------
 */

/*
 * The leaf tree of a text model: a tree with a start per group, whose group
 * slot holds a group; a split set in memory (more than 64 classes) only on
 * the group slot or a column the model draws (whose classes are its own);
 * every node's leaf a leaf of the model.
 */
static void
fs_check_text_tree(FsCheck *ck, const FsTextModel *tm)
{
	const FsModel *m = ck->m;
	const FsModelColumn *mcs = FS_AT(m, m->cols, FsModelColumn);
	const int32 *order = FS_AT(m, m->order, int32);
	const FsNode *nodes;
	const int32 *leaf_of;
	bool	   *drawn = palloc0(sizeof(bool) * m->ncols);
	int			saved = ck->group_nclass;

	if (tm->tree.starts == 0)
		fs_check_fail(ck, "its text tree has no group starts");
	ck->group_nclass = Max(tm->ngroups, 1);
	fs_check_tree(ck, &tm->tree, FS_TEXT_CLUSTERS + 1, Max(tm->ngroups, 1));
	ck->group_nclass = saved;
	for (int j = m->nbalance; j < m->ncols; j++)
		if (order[j] >= 0 && order[j] < m->ncols &&
			(mcs[order[j]].kind == FS_CAT || mcs[order[j]].kind == FS_NUM))
			drawn[order[j]] = true;
	nodes = FS_AT(m, tm->tree.nodes, FsNode);
	for (int id = 0; id < tm->tree.nnodes; id++)
		if (nodes[id].goes_left != 0 && nodes[id].test != FS_GROUP_COL(m->ncols) &&
			!drawn[nodes[id].test])
			fs_check_fail(ck, psprintf("text tree node %d tests a column that is not drawn", id));
	pfree(drawn);
	fs_check_array(ck, tm->leaf_of, tm->tree.nnodes, sizeof(int32), "text leaves");
	leaf_of = FS_AT(m, tm->leaf_of, int32);
	for (int id = 0; id < tm->tree.nnodes; id++)
		if (leaf_of[id] < -1 || leaf_of[id] >= tm->nleaves)
			fs_check_fail(ck, psprintf("text tree node %d has a leaf the model does not have", id));
}

static void
fs_check_text(FsCheck *ck, int c)
{
	const FsModel *m = ck->m;
	const FsModelColumn *mc = FS_AT(m, m->cols, FsModelColumn) + c;
	const FsTextModel *tm;
	const int32 *slots;
	const FsTextCtx *ctx;
	int64		ngroups = 1;
	int64		nsucc = 0;
	bool		empty = false;

	fs_check_array(ck, mc->classes, 1, sizeof(FsTextModel), "text model");
	tm = FS_AT(m, mc->classes, FsTextModel);
	if (tm->ntokens < FS_TEXT_FIRST_TOKEN || tm->nctx_cols < 0 ||
		tm->nctx_cols > FS_TEXT_MAX_CTX || tm->nctx < 0 || tm->nrare < 0 ||
		tm->nrare_terms < 0 || tm->nslots < 1 || (tm->nslots & (tm->nslots - 1)) != 0)
		fs_check_fail(ck, "its text model has impossible counts");
	fs_check_array(ck, tm->tokens, tm->ntokens, sizeof(FsTextToken), "text tokens");
	for (int t = 0; t < tm->ntokens; t++)
	{
		const FsTextToken *tok = FS_AT(m, tm->tokens, FsTextToken) + t;

		if (tok->len < 0 || (uint64) tok->key + tok->len + (tok->shape_len != 0) > ck->size ||
			tok->shape_len < -1 || tok->shape_len > 64 ||
			(tok->shape_len > 0 && tok->len < 1))
			fs_check_fail(ck, psprintf("text token %d lies outside the block", t));
	}
	for (int j = 0; j < tm->nctx_cols; j++)
	{
		if (tm->ctx_cols[j] < 0 || tm->ctx_cols[j] > FS_GROUP_COL(m->ncols) ||
			tm->ctx_nclass[j] < 1 || tm->ctx_nclass[j] > 1000000)
			fs_check_fail(ck, "its text model's context columns are impossible");
		ngroups *= tm->ctx_nclass[j];
		if (ngroups > PG_INT32_MAX / 2)
			fs_check_fail(ck, "its text model has too many groups");
	}
	if (tm->ngroups != (tm->nctx_cols > 0 ? ngroups : tm->ngroups) || tm->ngroups < 0 ||
		tm->ngroups > PG_INT32_MAX / 2)
		fs_check_fail(ck, "its text model's groups do not match its context columns");
	if (tm->nleaves < 0 || tm->nleaves > PG_INT32_MAX / 4 ||
		(tm->tree.nnodes == 0 && tm->nleaves != 0))
		fs_check_fail(ck, "its text model has an impossible number of leaves");
	fs_check_array(ck, tm->groups, (int64) tm->ngroups + 1 + tm->nleaves,
				   sizeof(FsTextGroup), "text groups");
	if (tm->tree.nnodes != 0)
		fs_check_text_tree(ck, tm);
	fs_check_array(ck, tm->ctx, tm->nctx, sizeof(FsTextCtx), "text contexts");
	fs_check_array(ck, tm->slots, tm->nslots, sizeof(int32), "text slots");
	slots = FS_AT(m, tm->slots, int32);
	for (int i = 0; i < tm->nslots; i++)
	{
		if (slots[i] < -1 || slots[i] >= tm->nctx)
			fs_check_fail(ck, "a text slot names a context that does not exist");
		empty |= slots[i] < 0;
	}
	if (!empty)
		fs_check_fail(ck, "its text slots have no empty slot");
	ctx = FS_AT(m, tm->ctx, FsTextCtx);
	for (int i = 0; i < tm->nctx; i++)
	{
		if (ctx[i].first < 0 || ctx[i].nsucc < 0 || ctx[i].total < 0 || ctx[i].types < 0)
			fs_check_fail(ck, psprintf("text context %d has impossible counts", i));
		nsucc = Max(nsucc, (int64) ctx[i].first + ctx[i].nsucc);
	}
	fs_check_array(ck, tm->succ, nsucc, sizeof(FsTextSucc), "text successors");
	for (int i = 0; i < tm->nctx; i++)
	{
		const FsTextSucc *s = FS_AT(m, tm->succ, FsTextSucc) + ctx[i].first;
		int32		prev = 0;

		for (int j = 0; j < ctx[i].nsucc; j++)
		{
			if (s[j].tok < 0 || s[j].tok >= tm->ntokens || s[j].cum <= prev)
				fs_check_fail(ck, psprintf("text context %d has an impossible successor", i));
			prev = s[j].cum;
		}
	}
	fs_check_array(ck, tm->rare, tm->nrare, sizeof(uint64), "rare texts");
	fs_check_array(ck, tm->rare_terms, tm->nrare_terms, sizeof(uint64), "rare terms");
	fs_check_array(ck, tm->letters, 27 * 27, sizeof(int32), "letter bigrams");
}

/* ---------------------------------------------------------------------------
 * The block
 * ---------------------------------------------------------------------------
 */

/* Validate the model block m of size bytes, or error out. */
void
fs_model_validate(const FsModel *m, Size size)
{
	FsCheck		ck;
	const FsModelColumn *mcs;
	const int32 *order;
	int			ncols;

	ck.m = m;
	ck.size = size;
	ck.what = "model block";
	ck.group_nclass = 1;
	if (size < sizeof(FsModel) || m->magic != FS_MODEL_MAGIC || m->size != size)
		fs_check_fail(&ck, "its header does not match its size");
	ncols = m->ncols;
	if (ncols < 1 || ncols > MaxHeapAttributeNumber || m->nbalance < 0 ||
		m->nbalance > ncols || m->ncombos < 1 || m->nguard < 0 || m->nguard_common < 0)
		fs_check_fail(&ck, "its counts are impossible");
	fs_check_array(&ck, m->cols, ncols, sizeof(FsModelColumn), "columns");
	fs_check_array(&ck, m->order, ncols, sizeof(int32), "generation order");
	fs_check_array(&ck, m->guard, (int64) m->nguard + m->nguard_common, sizeof(uint64),
				   "copy guard");
	mcs = FS_AT(m, m->cols, FsModelColumn);
	order = FS_AT(m, m->order, int32);
	ck.group_nclass = m->ncombos;

	/* every column's classes */
	for (int c = 0; c < ncols; c++)
	{
		const FsModelColumn *mc = &mcs[c];

		ck.what = psprintf("model of column %d", c + 1);
		if (mc->kind < FS_CAT || mc->kind > FS_TEXTFREE || mc->type < FS_TEXT ||
			mc->type > FS_UUID || mc->nclass < 0 ||
			mc->null_class < -1 || mc->null_class >= Max(mc->nclass, 1) ||
			mc->rare_class < -1 || mc->rare_class >= Max(mc->nclass, 1) ||
			mc->derived_from < -1 || mc->derived_from >= ncols || mc->derived_from == c)
			fs_check_fail(&ck, "its kind, type or classes are impossible");
		if (mc->kind == FS_CAT || mc->kind == FS_NUM)
		{
			if (mc->nclass < 1)
				fs_check_fail(&ck, "it has no classes");
			fs_check_array(&ck, mc->classes, mc->nclass,
						   mc->kind == FS_CAT ? sizeof(FsCategory) : sizeof(FsBin), "classes");
		}
		if (mc->kind == FS_CAT)
		{
			for (int j = 0; j < mc->nclass; j++)
			{
				const FsCategory *cat = FS_AT(m, mc->classes, FsCategory) + j;

				if (cat->len < 0 || (uint64) cat->key + cat->len > size)
					fs_check_fail(&ck, psprintf("category %d lies outside the block", j));
			}
			if (mc->frequent != 0)
				fs_check_array(&ck, mc->frequent, Max(mc->rare_class, 1), sizeof(float4),
							   "frequent shares");
		}
		if (mc->kind == FS_TEXTFREE)
			fs_check_text(&ck, c);
		if (mc->derived_from >= 0)
		{
			int			from = Max(mcs[mc->derived_from].nclass, 1);

			fs_check_array(&ck, mc->derived_map, from, sizeof(int32), "derivation map");
			for (int j = 0; j < from; j++)
			{
				int32		t = FS_AT(m, mc->derived_map, int32)[j];

				if (t < -1 || t >= mc->nclass)
					fs_check_fail(&ck, "its derivation map names a class it does not have");
			}
		}
	}

	/* the columns drawn, in generation order, by their trees */
	for (int j = 0; j < ncols; j++)
	{
		int			c = order[j];

		ck.what = psprintf("generation order entry %d", j + 1);
		if (c < -1 || c >= ncols)
			fs_check_fail(&ck, "it names a column that does not exist");
		if (j < m->nbalance || c < 0)
			continue;
		ck.what = psprintf("model of column %d", c + 1);
		if (mcs[c].kind != FS_CAT && mcs[c].kind != FS_NUM)
			fs_check_fail(&ck, "a column that is not drawn has a place in the generation order");
		fs_check_tree(&ck, &mcs[c].tree, mcs[c].nclass, Max(m->ncombos, 1));
	}
	for (int j = m->nbalance; j < ncols; j++)
		if (order[j] < 0)
			for (int i = j; i < ncols; i++)
				if (order[i] >= 0)
				{
					ck.what = "generation order";
					fs_check_fail(&ck, "a column follows the end of the order");
				}

	/* outcome parity */
	if (m->parity_col != -1)
	{
		ck.what = "outcome model";
		if (m->parity_col < 0 || m->parity_col >= ncols || m->nfacet < 1 ||
			m->parity_from < m->nbalance || m->parity_from > ncols ||
			mcs[m->parity_col].nclass < 2)
			fs_check_fail(&ck, "its outcome column or facets are impossible");
		fs_check_tree(&ck, &m->parity_tree, mcs[m->parity_col].nclass, 0);
		fs_check_array(&ck, m->parity_q, (int64) m->nfacet * m->parity_tree.nnodes,
					   sizeof(float4), "mapped probabilities");
	}
}
