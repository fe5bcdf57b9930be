import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

const id = { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true, allowNull: false };
const ref = (table: string) => ({
  type: DataTypes.INTEGER,
  allowNull: false,
  references: { model: table, key: 'id' },
  onDelete: 'CASCADE',
});
const at = { type: DataTypes.DATE, allowNull: false };

export async function up({ context: qi }: Params): Promise<void> {
  await qi.createTable('users', {
    id,
    username: { type: DataTypes.STRING(150), allowNull: false },
    username_lower: { type: DataTypes.STRING(150), allowNull: false, unique: true },
    email: { type: DataTypes.STRING(254), allowNull: false, unique: true },
    password_hash: { type: DataTypes.STRING(255), allowNull: false },
    first_name: { type: DataTypes.STRING(150), allowNull: false, defaultValue: '' },
    last_name: { type: DataTypes.STRING(150), allowNull: false, defaultValue: '' },
    bio: { type: DataTypes.TEXT, allowNull: true },
    profile_picture: { type: DataTypes.STRING(255), allowNull: true },
    is_online: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    last_seen: { type: DataTypes.DATE, allowNull: true },
    is_admin: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    is_banned: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    created_at: at,
    updated_at: at,
  });
  await qi.addIndex('users', ['is_online']);

  await qi.createTable('sessions', {
    id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
    user_id: ref('users'),
    current_jti: { type: DataTypes.STRING(36), allowNull: false },
    expires_at: at,
    revoked_at: { type: DataTypes.DATE, allowNull: true },
    created_at: at,
    updated_at: at,
  });
  await qi.addIndex('sessions', ['user_id']);

  await qi.createTable('follows', {
    id,
    follower_id: ref('users'),
    following_id: ref('users'),
    created_at: at,
  });
  await qi.addIndex('follows', ['follower_id', 'following_id'], { unique: true });
  await qi.addIndex('follows', ['following_id']);

  await qi.createTable('posts', {
    id,
    author_id: ref('users'),
    content: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
    image: { type: DataTypes.STRING(255), allowNull: true },
    created_at: at,
    updated_at: at,
  });
  await qi.addIndex('posts', ['author_id', 'id']);

  await qi.createTable('post_likes', { id, post_id: ref('posts'), user_id: ref('users'), created_at: at });
  await qi.addIndex('post_likes', ['post_id', 'user_id'], { unique: true });
  await qi.addIndex('post_likes', ['user_id']);

  await qi.createTable('comments', {
    id,
    post_id: ref('posts'),
    author_id: ref('users'),
    content: { type: DataTypes.TEXT, allowNull: false },
    created_at: at,
    updated_at: at,
  });
  await qi.addIndex('comments', ['post_id', 'id']);
  await qi.addIndex('comments', ['author_id']);

  await qi.createTable('comment_likes', { id, comment_id: ref('comments'), user_id: ref('users'), created_at: at });
  await qi.addIndex('comment_likes', ['comment_id', 'user_id'], { unique: true });
  await qi.addIndex('comment_likes', ['user_id']);

  await qi.createTable('social_groups', {
    id,
    name: { type: DataTypes.STRING(100), allowNull: false },
    description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
    image: { type: DataTypes.STRING(255), allowNull: true },
    creator_id: ref('users'),
    created_at: at,
    updated_at: at,
  });
  await qi.addIndex('social_groups', ['creator_id']);

  await qi.createTable('group_members', {
    id,
    group_id: ref('social_groups'),
    user_id: ref('users'),
    role: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'member' },
    created_at: at,
  });
  await qi.addIndex('group_members', ['group_id', 'user_id'], { unique: true });
  await qi.addIndex('group_members', ['user_id']);

  await qi.createTable('direct_messages', {
    id,
    sender_id: ref('users'),
    receiver_id: ref('users'),
    content: { type: DataTypes.TEXT, allowNull: false },
    is_read: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    read_at: { type: DataTypes.DATE, allowNull: true },
    client_id: { type: DataTypes.STRING(64), allowNull: true },
    created_at: at,
  });
  await qi.addIndex('direct_messages', ['sender_id', 'receiver_id', 'id']);
  await qi.addIndex('direct_messages', ['receiver_id', 'sender_id', 'id']);
  await qi.addIndex('direct_messages', ['receiver_id', 'is_read']);
  await qi.addIndex('direct_messages', ['sender_id', 'client_id'], { unique: true });

  await qi.createTable('group_messages', {
    id,
    group_id: ref('social_groups'),
    sender_id: ref('users'),
    content: { type: DataTypes.TEXT, allowNull: false },
    client_id: { type: DataTypes.STRING(64), allowNull: true },
    created_at: at,
  });
  await qi.addIndex('group_messages', ['group_id', 'id']);
  await qi.addIndex('group_messages', ['sender_id', 'client_id'], { unique: true });

  await qi.createTable('calls', {
    id,
    caller_id: ref('users'),
    callee_id: ref('users'),
    call_type: { type: DataTypes.STRING(8), allowNull: false },
    status: { type: DataTypes.STRING(10), allowNull: false, defaultValue: 'pending' },
    started_at: at,
    answered_at: { type: DataTypes.DATE, allowNull: true },
    ended_at: { type: DataTypes.DATE, allowNull: true },
  });
  await qi.addIndex('calls', ['caller_id', 'status']);
  await qi.addIndex('calls', ['callee_id', 'status']);
  await qi.addIndex('calls', ['status', 'started_at']);
}

export async function down({ context: qi }: Params): Promise<void> {
  for (const table of ['calls', 'group_messages', 'direct_messages', 'group_members', 'social_groups', 'comment_likes', 'comments', 'post_likes', 'posts', 'follows', 'sessions', 'users']) {
    await qi.dropTable(table);
  }
}
